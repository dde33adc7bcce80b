"""The CLI as a client of ``stagewall serve``: server URL, the personal token, requests.

Who acts is decided by the server from the token; nothing here names an actor.
The token comes from ``STAGEWALL_TOKEN`` (pipelines and scripts) or from the file
``stagewall login`` wrote (``$XDG_CONFIG_HOME/stagewall/credentials.json``, mode
0600, one entry per server URL).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
import httpx

from stagewall._net import is_loopback
from stagewall.cli._common import one_line
from stagewall.errors import (
    AccessDenied,
    ConfigError,
    NotAuthenticated,
    RateLimited,
    ServerError,
    StagewallError,
    UsageError,
)

F = TypeVar("F", bound=Callable[..., Any])
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def refuse_empty_server(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    from stagewall.cli._params import refuse_empty

    refuse_empty(value, param, "the server's URL")
    return value


def server_option(f: F) -> F:
    return click.option(
        "--server",
        "server",
        default=None,
        callback=refuse_empty_server,
        metavar="URL",
        help="The stagewall server (default: $STAGEWALL_SERVER, then the one you logged in to).",
    )(f)


def pipeline_options(f: F) -> F:
    f = click.option(
        "--oidc-audience",
        "audience",
        default=None,
        metavar="AUD",
        help="GitHub Actions: request the job's OIDC ID token for this audience (the job needs "
        "permissions: id-token: write). Default: $STAGEWALL_OIDC_AUDIENCE.",
    )(f)
    return click.option(
        "--oidc-token-env",
        "oidc_env",
        default=None,
        metavar="VAR",
        help="Read the CI OIDC ID token from environment variable VAR (GitLab: the variable "
        "named under id_tokens:).",
    )(f)


def ci_token(oidc_env: str | None, audience: str | None) -> str | None:
    """The pipeline's CI OIDC ID token, when asked for; None means: use STAGEWALL_TOKEN/login.

    ``--oidc-token-env VAR`` reads it from ``VAR``. ``--oidc-audience`` (or
    ``STAGEWALL_OIDC_AUDIENCE``) asks the GitHub Actions runner for one, through the
    ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN`` it sets when the job may mint tokens.
    """
    if oidc_env is not None:
        value = os.environ.get(oidc_env, "").strip()
        if not value:
            raise UsageError(
                f"--oidc-token-env {oidc_env}: the variable is not set or empty",
                hint="GitLab: declare it under id_tokens: in the job, with aud: set to the "
                "audience stagewall.yaml expects",
            )
        return value
    audience = audience or os.environ.get("STAGEWALL_OIDC_AUDIENCE") or None
    if audience is None:
        return None
    url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    bearer = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise UsageError(
            "an OIDC audience was given but this is not a GitHub Actions job that may mint "
            "ID tokens (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)",
            hint="give the job `permissions: id-token: write`, or use --oidc-token-env",
        )
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            # The runner's URL carries its own query (api-version): add to it, never replace.
            target = httpx.URL(url).copy_merge_params({"audience": audience})
            res = http.get(target, headers={"Authorization": f"Bearer {bearer}"})
        got: Any = res.json().get("value") if res.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        got = None
    if not isinstance(got, str) or not got:
        raise ServerError("the GitHub Actions runner did not hand out an OIDC ID token")
    return got


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "stagewall" / "credentials.json"


def _own_directory(directory: Path) -> None:
    """``directory`` must be a real directory of this user that nobody else may write:
    otherwise someone else could plant, swap or redirect the files kept in it."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot inspect {directory}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ConfigError(
            f"{directory} is a symbolic link or not a directory; the CLI keeps its login "
            "tokens only in a real directory of its own",
            hint=f"remove it (it is created again, mode 0700): rm {directory}",
        )
    if st.st_uid != os.geteuid():
        raise ConfigError(
            f"{directory} is not owned by you (uid {st.st_uid}); someone else could plant "
            "or read the login tokens kept there",
            hint="set XDG_CONFIG_HOME to a directory of your own",
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"{directory} is writable by others (mode {oct(st.st_mode & 0o777)}); someone "
            "else could plant or redirect the login tokens kept there",
            hint=f"chmod 700 {directory}",
        )


def _read_private(path: Path, *, damaged_ok: bool = False) -> Any:
    """The JSON in ``path`` (None if absent, or not JSON and ``damaged_ok``): refused when
    it is a symbolic link, not this user's, or readable or writable by others (a planted
    or exposed token file)."""
    _own_directory(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"{path} is a symbolic link; the CLI reads login tokens only from a file "
                "of its own",
                hint=f"remove it and run `stagewall login` again: rm {path}",
            ) from None
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path} is not a regular file")
        if st.st_uid != os.geteuid():
            raise ConfigError(
                f"{path} is not owned by you (uid {st.st_uid}): someone else may have "
                "planted it to send your commands to another server or identity",
                hint=f"remove it and run `stagewall login` again: rm {path}",
            )
        if st.st_mode & 0o077:
            raise ConfigError(
                f"{path} is readable or writable by others (mode {oct(st.st_mode & 0o777)}); "
                "the login tokens in it may have been read",
                hint=f"run `stagewall logout`, then `chmod 600 {path}` and `stagewall login`",
            )
        raw = fh.read()
    try:
        return json.loads(raw)
    except ValueError as exc:
        if damaged_ok:
            return None
        raise ConfigError(
            f"cannot read {path}: {exc}", hint="delete the file and run `stagewall login`"
        ) from None


def _read_credentials() -> dict[str, Any]:
    data = _read_private(credentials_path())
    return data if isinstance(data, dict) else {}


def save_login(server: str, token: str, principal: str, expires_at: str) -> Path:
    path = credentials_path()
    data = _read_credentials()
    data.setdefault("servers", {})[server] = {
        "token": token,
        "principal": principal,
        "expires_at": expires_at,
    }
    data["default"] = server
    _write_private(path, data)
    return path


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write JSON readable by this user only (mode 0600, directory 0700), atomically.

    Through a new temporary file (O_EXCL, a random name): a file or symbolic link
    planted under a predictable name never receives the token."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _own_directory(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            json.dump(data, fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget_login(server: str) -> None:
    data = _read_credentials()
    if server in data.get("servers", {}):
        del data["servers"][server]
        _write_private(credentials_path(), data)


def _ci_sessions_path() -> Path:
    return credentials_path().with_name("ci-sessions.json")


def ci_session(server: str, id_token: str) -> str:
    """The job session token for a CI OIDC ID token, exchanged once and kept for the job.

    The server accepts each CI token once (SW925), so the first stagewall command of a
    job exchanges it (``POST /api/v1/ci/session``) and the job's later commands, which
    see the same token (GitLab's ``id_tokens:`` variable), reuse the session from
    ``ci-sessions.json`` next to the credentials file (mode 0600), keyed by a digest
    of the server and the token; expired entries are dropped.
    """
    path = _ci_sessions_path()
    key = hashlib.sha256(f"{server}\0{id_token}".encode()).hexdigest()
    cached: Any = _read_private(path, damaged_ok=True)  # damaged: exchange the token again
    if not isinstance(cached, dict):
        cached = {}
    now = datetime.now(UTC)
    live = {k: v for k, v in cached.items() if isinstance(v, dict) and _later(v, now)}
    hit = live.get(key)
    if hit is not None:
        return str(hit["token"])
    got = Client(server, token=id_token).request("POST", "/api/v1/ci/session")
    live[key] = {"token": got["token"], "expires_at": got["expires_at"]}
    _write_private(path, live)
    return str(got["token"])


def _later(entry: dict[str, Any], now: datetime) -> bool:
    try:
        until = datetime.fromisoformat(str(entry["expires_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return False
    return until - timedelta(seconds=30) > now and isinstance(entry.get("token"), str)


def pipeline_client(server: str | None, oidc_env: str | None, audience: str | None) -> Client:
    """A client acting as the pipeline: its CI job session, else STAGEWALL_TOKEN/login."""
    id_token = ci_token(oidc_env, audience)
    if id_token is None:
        return Client(server)
    url = resolve_server(server)
    return Client(url, token=ci_session(url, id_token))


def _redacted(url: str) -> str:
    """``url`` for a message: anything that may be a user name or password (up to the
    last ``@``) replaced by ``***``, unprintable characters escaped."""
    if "@" in url:
        start = url.find("//") + 2 if "//" in url else 0
        url = url[:start] + "***" + url[url.rfind("@") :]
    return one_line(url.encode("utf-8", "backslashreplace").decode("utf-8"))


def _transport_problem(exc: httpx.HTTPError) -> str:
    """What went wrong on the wire, in words (not an exception class name)."""
    if isinstance(exc, httpx.ConnectError):
        return "the connection was refused or the host is unknown"
    if isinstance(exc, httpx.TimeoutException):
        return "the connection timed out"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "the URL is not one the client can use"
    return "the connection failed"


def resolve_server(explicit: str | None) -> str:
    url = explicit or os.environ.get("STAGEWALL_SERVER") or _read_credentials().get("default")
    if not url:
        raise UsageError(
            "no stagewall server is configured",
            hint="pass --server URL, set STAGEWALL_SERVER, or run `stagewall login --server URL`",
        )
    url = str(url).rstrip("/")
    shown = _redacted(url)
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"the server URL {shown!r} must start with https:// (or http:// locally)",
            hint="pass the server's base URL, e.g. --server https://stagewall.example.com",
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise UsageError(
            f"the server URL {shown!r} is malformed ({exc})",
            hint="pass the server's base URL, e.g. --server https://stagewall.example.com",
        ) from None
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            f"the server URL {shown!r} carries a user name or password",
            hint="drop the user:password@ part; log in with `stagewall login` instead "
            "(a password in a URL ends up in shell history and process lists)",
        )
    if not host or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise UsageError(
            f"the server URL {shown!r} has no host name, or has spaces or control characters",
            hint="pass the server's base URL, e.g. --server https://stagewall.example.com",
        )
    if url.startswith("http://") and not is_loopback(host):
        # Tokens, passwords, one-time codes and issued credentials cross this connection.
        raise UsageError(
            f"the server URL {shown!r} is plain http:// to another host",
            hint="use the server's https:// URL; plain http:// is accepted only on a "
            "loopback address (127.0.0.1, ::1, localhost)",
        )
    return url


def token_for(server: str) -> str:
    env = os.environ.get("STAGEWALL_TOKEN")
    if env:
        return env
    entry = _read_credentials().get("servers", {}).get(server)
    if not entry or not entry.get("token"):
        raise NotAuthenticated(f"you are not logged in to {server}")
    return str(entry["token"])


class RemoteError(StagewallError):
    """A refusal from the server, carrying its RFC 9457 problem object."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(str(problem.get("detail", "the server refused")), hint=problem.get("hint"))
        self.problem = problem
        self.code = str(problem.get("code", "SW000"))  # type: ignore[misc]
        self.exit_code = int(problem.get("exit_code", 1 if problem.get("status") == 403 else 2))  # type: ignore[misc]


_BY_STATUS: dict[int, type[StagewallError]] = {
    401: NotAuthenticated,
    403: AccessDenied,
    429: RateLimited,
}


class Client:
    """One server, one token."""

    def __init__(
        self, server: str | None, *, anonymous: bool = False, token: str | None = None
    ) -> None:
        self.server = resolve_server(server)
        if anonymous:
            self.token: str | None = None
        else:
            self.token = token if token is not None else token_for(self.server)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        """Call the API (``json_body``, ``params``, ``form``); its JSON answer, None for 204."""
        res = self._send(method, path, **kw)
        if res.status_code == 204:
            return None
        try:
            return res.json()
        except ValueError:
            return None

    def download(self, path: str, *, params: dict[str, Any] | None = None) -> bytes:
        """GET a file (a bundle, a report) and return its bytes."""
        return self._send("GET", path, params=params).content

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"User-Agent": "stagewall-cli"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with httpx.Client(timeout=TIMEOUT) as http:
                res = http.request(
                    method,
                    self.server + path,
                    json=json_body,
                    params=params,
                    data=form,
                    headers=headers,
                )
        except httpx.HTTPError as exc:
            raise ServerError(
                f"cannot reach the stagewall server at {self.server}: {_transport_problem(exc)}",
                hint="check the --server URL, that the server is running and that this "
                "machine can reach it",
            ) from None
        if res.status_code >= 400:
            try:
                body = res.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and "detail" in body and "code" in body:
                raise RemoteError(body)
            cls = _BY_STATUS.get(res.status_code, ServerError)
            raise cls(f"the server answered {res.status_code} to {method} {path}")
        return res


__all__ = [
    "Client",
    "RemoteError",
    "ci_session",
    "ci_token",
    "credentials_path",
    "forget_login",
    "pipeline_client",
    "pipeline_options",
    "resolve_server",
    "save_login",
    "server_option",
    "token_for",
]
