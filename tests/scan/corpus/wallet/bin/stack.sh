#!/usr/bin/env bash
# usage: bin/stack.sh live|staging -- the staging compose file with either env file
set -euo pipefail
case "${1:-staging}" in
  live) STACK_ENV=.env.production ;;
  *) STACK_ENV=.env.staging ;;
esac
docker compose -f docker-compose.staging.yml --env-file "$STACK_ENV" up -d
