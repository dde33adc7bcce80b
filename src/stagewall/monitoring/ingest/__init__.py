"""Log parsers, one module per source type, registered by name. See docs/monitoring.md."""

from stagewall.monitoring.ingest import git, hosted, mariadb, postgres, sftp, sshd
from stagewall.monitoring.ingest._base import (
    LineError,
    Parser,
    parser_for,
    parser_names,
    redact_statement,
)

_MODULES = (git, hosted, mariadb, postgres, sftp, sshd)

__all__ = ["LineError", "Parser", "parser_for", "parser_names", "redact_statement"]
