#!/usr/bin/env bash
# bring the shared staging stack up
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_FILE=.env.production
docker compose -f docker-compose.staging.yml --env-file "$ENV_FILE" up -d
STAGING_ENV=.env.staging
docker compose -f docker-compose.staging.yml --env-file "${STAGING_ENV}" ps
docker compose -f docker-compose.staging.yml --env-file "$LATER_ENV" config -q
LATER_ENV=.env.production
