#!/bin/sh
# Weekly refresh of the staging shop database.
set -eu
pg_dump --no-owner "$SHOP_DB_URL_LIVE" | psql "$STAGING_SHOP_DB_URL"
