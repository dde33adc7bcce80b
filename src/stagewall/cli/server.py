"""``stagewall serve`` and the operator's ``stagewall server invite`` (run on the server host)."""

from __future__ import annotations

import click

from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.cli._params import estate_name, record_id
from stagewall.errors import UsageError


def _bind(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--bind {text!r} must be HOST:PORT, e.g. 127.0.0.1:8443")
    return host.strip("[]"), int(port)


@click.command("serve")
@config_option
@db_option
@click.option("--bind", default=None, help="HOST:PORT (default: server.bind in stagewall.yaml).")
def serve_cmd(config: str | None, db: str | None, bind: str | None) -> None:
    """Run the control plane: the only process that holds secrets and writes the store."""
    import uvicorn

    from stagewall.paths import ensure_home
    from stagewall.server import ServerState, create_app
    from stagewall.store.roles import assert_runtime_role_safe

    state = ServerState.open(config, db, ensure_home())
    # Refuse to run as a role that could rewrite the audit tables (PostgreSQL stores).
    assert_runtime_role_safe(state.ctx.store)
    settings = state.settings
    host, port = _bind(bind or settings.bind)
    tls = {}
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise UsageError("server.tls_cert and server.tls_key must be set together")
        tls = {"ssl_certfile": settings.tls_cert, "ssl_keyfile": settings.tls_key}
    click.echo(f"stagewall serving on {host}:{port} (store {state.ctx.store.display_url})")
    uvicorn.run(
        create_app(state),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        **tls,  # type: ignore[arg-type]
    )


@click.group("server")
def server_group() -> None:
    """Operator commands run on the server host (they use the server's store directly)."""


@server_group.command("invite")
@click.argument("principal", type=estate_name("principal name"))
@config_option
@db_option
@format_option("json")
def invite_cmd(principal: str, config: str | None, db: str | None, fmt: str) -> None:
    """Create a one-time invitation for PRINCIPAL's local account (the first admin's too)."""
    from datetime import UTC, datetime

    from stagewall.access import AccessContext
    from stagewall.estate.models import HOST_OPERATOR
    from stagewall.identity import accounts

    ctx = AccessContext.open(config, db)
    inv = accounts.create_invitation(
        ctx.store, ctx.estate, principal, created_by=HOST_OPERATOR, now=datetime.now(UTC)
    )
    data = {
        "invitation": inv.id,
        "principal": inv.principal,
        "token": inv.token,
        "expires_at": inv.expires_at.isoformat(),
        "next": f"{principal} runs: stagewall account accept --server "
        f"{ctx.estate.server.public_url}",
    }
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"invitation {inv.id} for {principal}, valid until {data['expires_at']}.\n"
            f"Give {principal} this one-time token over a trusted channel:\n{inv.token}\n"
            f"then: {data['next']}"
        )


@server_group.group("pipeline-token")
def pipeline_token_group() -> None:
    """Per-pipeline static tokens (the fallback when CI OIDC is not available)."""


@pipeline_token_group.command("create")
@click.argument("principal", type=estate_name("principal name"))
@click.option(
    "--ttl-days", type=click.IntRange(1, 366), default=90, show_default=True, help="Lifetime."
)
@config_option
@db_option
@format_option("json")
def pipeline_token_create_cmd(
    principal: str, ttl_days: int, config: str | None, db: str | None, fmt: str
) -> None:
    """Create a token for service principal PRINCIPAL; it is printed once, stored hashed."""
    from datetime import UTC, datetime, timedelta

    from stagewall.access import AccessContext
    from stagewall.identity.pipeline import create_pipeline_token

    ctx = AccessContext.open(config, db)
    new = create_pipeline_token(
        ctx.store,
        ctx.estate,
        ctx.audit,
        principal,
        now=datetime.now(UTC),
        ttl=timedelta(days=ttl_days),
    )
    data = {
        "id": new.info.id,
        "principal": principal,
        "expires_at": new.info.expires_at.isoformat(),
        "token": new.secret,
    }
    if fmt == "json":
        echo_json(data)
    else:
        click.echo(
            f"pipeline token {new.info.id} for {principal}, valid until {data['expires_at']}.\n"
            "Store it as the CI secret STAGEWALL_TOKEN; it is not shown again:\n"
            f"{new.secret}"
        )


@pipeline_token_group.command("list")
@click.option(
    "--principal",
    default=None,
    type=estate_name("principal name"),
    help="Only this service principal's tokens.",
)
@config_option
@db_option
@format_option("json")
def pipeline_token_list_cmd(
    principal: str | None, config: str | None, db: str | None, fmt: str
) -> None:
    """List pipeline tokens (never their secrets)."""
    from stagewall.identity.pipeline import list_pipeline_tokens
    from stagewall.paths import existing_store_url
    from stagewall.store import open_store

    store = open_store(existing_store_url(db))  # a listing never creates an empty store
    rows = [t.as_dict() for t in list_pipeline_tokens(store, principal)]
    if fmt == "json":
        echo_json(rows)
        return
    if not rows:
        click.echo("no pipeline tokens")
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else f"expires {r['expires_at']}"
        click.echo(f"{r['id']}  {r['principal']:<24} created {r['created_at']}  {state}")


@pipeline_token_group.command("revoke")
@click.argument("token_id", type=record_id("token id"))
@config_option
@db_option
@format_option("json")
def pipeline_token_revoke_cmd(token_id: str, config: str | None, db: str | None, fmt: str) -> None:
    """Revoke pipeline token TOKEN_ID (its next request is refused)."""
    from datetime import UTC, datetime

    from stagewall.access import AccessContext
    from stagewall.identity.pipeline import revoke_pipeline_token

    ctx = AccessContext.open(config, db)
    t = revoke_pipeline_token(ctx.store, ctx.audit, token_id, now=datetime.now(UTC))
    if fmt == "json":
        echo_json(t.as_dict())
    else:
        click.echo(f"revoked pipeline token {t.id} of {t.principal}")


@server_group.group("ingest-token")
def ingest_token_group() -> None:
    """Per-source tokens for log shippers posting to POST /api/v1/ingest/SOURCE."""


@ingest_token_group.command("create")
@click.argument("source", type=estate_name("log source name"))
@config_option
@db_option
@format_option("json")
def ingest_token_create_cmd(source: str, config: str | None, db: str | None, fmt: str) -> None:
    """Create a token that may post lines of SOURCE only (shown once, stored hashed)."""
    from datetime import UTC, datetime

    from stagewall.access import AccessContext
    from stagewall.estate.models import HOST_OPERATOR
    from stagewall.monitoring.tokens import create_ingest_token

    ctx = AccessContext.open(config, db)
    new = create_ingest_token(
        ctx.store, ctx.estate, source, created_by=HOST_OPERATOR, now=datetime.now(UTC)
    )
    url = f"{ctx.estate.server.public_url.rstrip('/')}/api/v1/ingest/{source}"
    if fmt == "json":
        echo_json({**new.token.to_json(), "token": new.secret, "url": url})
    else:
        click.echo(
            f"ingest token {new.token.id} for log source {source}. It is shown only now;\n"
            f"give it to the shipper on that host over a trusted channel:\n{new.secret}\n"
            f"the shipper posts lines with: Authorization: Bearer <token> to {url}"
        )


@ingest_token_group.command("list")
@click.option(
    "--source",
    default=None,
    type=estate_name("log source name"),
    help="Only the tokens of this log source.",
)
@config_option
@db_option
@format_option("json")
def ingest_token_list_cmd(source: str | None, config: str | None, db: str | None, fmt: str) -> None:
    """List ingest tokens (ids, sources, revocation; never the secrets)."""
    from stagewall.access import AccessContext
    from stagewall.monitoring.tokens import list_ingest_tokens

    ctx = AccessContext.open(config, db)
    tokens = list_ingest_tokens(ctx.store, source)
    if fmt == "json":
        echo_json([t.to_json() for t in tokens])
        return
    for t in tokens:
        state = f"revoked {t.revoked_at}" if t.revoked_at else "live"
        click.echo(f"{t.id}  {t.source}  created {t.created_at}  {state}")


@ingest_token_group.command("revoke")
@click.argument("token_id", type=record_id("token id"))
@config_option
@db_option
@format_option("json")
def ingest_token_revoke_cmd(token_id: str, config: str | None, db: str | None, fmt: str) -> None:
    """Revoke an ingest token by id; the next post with it is refused."""
    from datetime import UTC, datetime

    from stagewall.access import AccessContext
    from stagewall.estate.models import HOST_OPERATOR
    from stagewall.monitoring.tokens import revoke_ingest_token

    ctx = AccessContext.open(config, db)
    token = revoke_ingest_token(
        ctx.store, token_id, revoked_by=HOST_OPERATOR, now=datetime.now(UTC)
    )
    if fmt == "json":
        echo_json(token.to_json())
    else:
        click.echo(f"ingest token {token.id} for log source {token.source} revoked")


COMMANDS = [serve_cmd, server_group]
