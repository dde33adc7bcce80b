"""``stagewall demo``: a small, realistic estate that exercises every capability.

The demo builds a production SQLite shop database full of fake personal data, a
``stagewall.yaml`` and keys in a directory, then runs the real CLI commands a user
would type, step by step, and verifies the audit log at the end. It is re-runnable:
a directory it made before (marked with ``.stagewall-demo``) is rebuilt.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stagewall.demo import _steps
from stagewall.demo._estate import write_demo_estate
from stagewall.demo._runner import DemoFailed, Runner, StepResult
from stagewall.demo.shopdb import build_shop_db
from stagewall.errors import ConfigError, StagewallError, reason_of

MARKER = ".stagewall-demo"
_OWNED = (
    "prod",
    "staging",
    ".stagewall",
    "app",
    "infra",
    "audit-bundle",
    "evidence",
    "plan.yaml",
    "stagewall.yaml",
    "attestation.json",
    "scan.sarif",
    MARKER,
)


@dataclass
class DemoReport:
    directory: Path
    steps: list[StepResult] = field(default_factory=list)
    failed: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


def _prepare(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise ConfigError(
            f"{directory} exists, is not empty and was not made by `stagewall demo`",
            hint="pass --dir with a new or empty directory",
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent that is a file, a read-only or special file system
        raise ConfigError(
            f"cannot create the demo directory {directory}: {reason_of(exc)}",
            hint="pass --dir with a new or empty directory where you can write",
        ) from None
    for name in _OWNED:
        target = directory / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    (directory / MARKER).write_text("made by stagewall demo\n", encoding="utf-8")


def _instance_id(home: Path) -> str | None:
    """The demo store's instance id: it marks every database role the demo created."""
    from sqlalchemy import select

    from stagewall.access._tables import access_meta
    from stagewall.store import open_store

    path = home / "stagewall.db"
    if not path.exists():
        return None
    store = open_store(f"sqlite:///{path}", migrate=False)
    try:
        with store.read() as conn:
            value = conn.execute(
                select(access_meta.c.value).where(access_meta.c.key == "instance_id")
            ).scalar()
    finally:
        store.dispose()
    return str(value) if value is not None else None


def run_demo(directory: Path, echo: Callable[[str], None] = print) -> DemoReport:
    """Build the demo estate in ``directory`` and run every capability."""
    directory = directory.resolve()
    _prepare(directory)
    home = directory / ".stagewall"
    prod_db = directory / "prod" / "shop.db"
    staging_db = directory / "staging" / "shop.db"
    counts = build_shop_db(prod_db)
    pg = _steps.demo_postgres(directory)
    write_demo_estate(
        directory / "stagewall.yaml",
        prod_db=prod_db,
        staging_db=staging_db,
        pg_host=pg.host if pg else "db.prod.demo-shop.internal",
        pg_port=pg.port if pg else 5432,
        pg_database=pg.database if pg else "orders",
        alerts_file=home / "alerts.jsonl",
        grant_expires=(datetime.now(UTC).date() + timedelta(days=180)).isoformat(),
    )
    env: dict[str, str | None] = {
        "STAGEWALL_HOME": str(home),
        "STAGEWALL_CONFIG": str(directory / "stagewall.yaml"),
        "STAGEWALL_DB": None,
        # The user's own server and token must never be what the demo talks to: each step
        # that needs a server names the demo's (and a command that reads the audit log
        # would otherwise read it from the user's server).
        "STAGEWALL_SERVER": None,
        "STAGEWALL_TOKEN": None,
        "STAGEWALL_DEMO_PG_ADMIN_URL": pg.admin_url if pg else None,
        "NO_COLOR": "1",
    }
    run = Runner(env)
    ctx = _steps.Context(
        directory=directory,
        home=home,
        prod_db=prod_db,
        staging_db=staging_db,
        rows=counts,
        pg=pg,
        run=run,
    )
    report = DemoReport(directory)
    echo(f"stagewall demo in {directory}")
    echo(
        f"  built production shop database {prod_db.name}: "
        + ", ".join(f"{n} {t}" for t, n in counts.items())
    )
    with ctx.stack:
        for name, fn in _steps.STEPS:
            try:
                result = run.step(name, lambda fn=fn: fn(ctx))  # type: ignore[misc]
            except (DemoFailed, StagewallError) as exc:
                report.failed = f"{name}: {exc}"
                echo(f"  FAILED {name}: {exc}")
                break
            report.steps.append(result)
            echo(f"  ok  {name}: {result.summary}")
    if pg is not None:
        for what in pg.cleanup(_instance_id(home)):
            echo(f"  left on PostgreSQL: {what}")
    if report.ok:
        echo(
            f"done: {len(report.steps)} steps, {len(run.commands)} commands; "
            f"state in {home}, estate in {directory / 'stagewall.yaml'}"
        )
        echo(
            "every command the demo ran is listed in "
            f"{directory / '.stagewall' / 'demo-commands.txt'}"
        )
        (home / "demo-commands.txt").write_text("\n".join(run.commands) + "\n", encoding="utf-8")
    return report


__all__ = ["DemoReport", "run_demo"]
