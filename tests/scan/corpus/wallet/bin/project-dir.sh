#!/usr/bin/env bash
# the project's default .env is read from --project-directory
set -euo pipefail
docker compose -p wallet-staging --project-directory ../deploy/prod up -d
docker compose -p wallet-staging --project-directory ../deploy/staging up -d
docker compose -p wallet-staging --project-directory ../deploy/prod --env-file ../deploy/staging/.env up -d
COMPOSE_PROJECT_DIRECTORY=../deploy/prod docker compose -p wallet-staging up -d
