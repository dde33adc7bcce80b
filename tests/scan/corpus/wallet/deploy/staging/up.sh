#!/usr/bin/env bash
# staging's own stack script (its directory makes it staging's)
set -euo pipefail
COMPOSE_ENV_FILES=../../.env.production docker compose -f ../../docker-compose.yml up -d
COMPOSE_ENV_FILES=.env docker compose -f ../../docker-compose.yml ps
