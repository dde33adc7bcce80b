"""Load the vendored Pagila sample database (data/pagila) into PostgreSQL with ``psql``."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "data" / "pagila"


def load_postgres(url: str) -> None:
    for name in ["pagila-schema.sql.gz", "pagila-data.sql.gz"]:
        subprocess.run(
            ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", url],
            input=gzip.decompress((DATA / name).read_bytes()),
            check=True,
            capture_output=True,
        )
