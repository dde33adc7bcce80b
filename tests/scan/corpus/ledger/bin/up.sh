#!/usr/bin/env bash
# bring the shared staging stack up from a laptop
set -euo pipefail
cd "$(dirname "$0")/.."
docker-compose \
  --project-name ledger-staging \
  --env-file ./.env.production \
  -f docker-compose.yml \
  up -d
