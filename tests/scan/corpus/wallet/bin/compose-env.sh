#!/usr/bin/env bash
# compose v2.24+ reads its env files from COMPOSE_ENV_FILES
set -euo pipefail
COMPOSE_ENV_FILES=.env.staging,.env.production docker compose -f docker-compose.staging.yml up -d
COMPOSE_ENV_FILES=.env.staging docker compose -f docker-compose.staging.yml ps
export COMPOSE_ENV_FILES=.env.production
docker compose -p wallet-staging up -d
