"""Load the vendored Pagila sample database (data/pagila) into PostgreSQL with ``psql``."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "data" / "pagila"


# The dump (made by a PostgreSQL older than 15) ends its schema with
# ``GRANT ALL ON SCHEMA public TO PUBLIC``. On the shared test cluster that grant lets
# any login create objects in this database, and stagewall's JIT issuer rightly
# refuses a production login on a cluster where one could (tests/access, run in
# parallel with these on the same server, then failed at random). Only USAGE is
# granted, as PostgreSQL 15 does; no masking test depends on PUBLIC's CREATE.
PUBLIC_CREATE = b"GRANT ALL ON SCHEMA public TO PUBLIC;"
PUBLIC_USAGE = b"GRANT USAGE ON SCHEMA public TO PUBLIC;"


def without_public_create(script: bytes) -> bytes:
    """``script`` with PUBLIC's CREATE on schema public left out (see above)."""
    if PUBLIC_CREATE in script:
        script = script.replace(PUBLIC_CREATE, PUBLIC_USAGE)
    return script


def load_postgres(url: str) -> None:
    for name in ["pagila-schema.sql.gz", "pagila-data.sql.gz"]:
        subprocess.run(
            ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", url],
            input=without_public_create(gzip.decompress((DATA / name).read_bytes())),
            check=True,
            capture_output=True,
        )
