"""Connections that are not encrypted in transit."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stagewall.scan._env import EXAMPLE_ENV
from stagewall.scan._model import Entry, Finding, Severity, Tier
from stagewall.scan._refs import URL, documentation_host, is_loopback
from stagewall.scan.rules._base import FileContext, Rule

_SSLMODE = re.compile(r"\bsslmode\s*[=:]\s*['\"]?(disable|allow|prefer)\b", re.I)
_FLAG_OFF = re.compile(
    r"\b(tls|ssl|use_?ssl|use_?tls|ssl_?enabled|tls_?enabled|encrypt|require_?ssl)\s*[=:]\s*['\"]?(false|0|no|off)\b",
    re.I,
)
_FLAG_ON = re.compile(
    r"\b(insecure|insecure_?skip_?verify|tls_?insecure|skip_?tls_?verify|ssl_?insecure|"
    r"tls_?skip_?verify)\s*[=:]\s*['\"]?(true|1|yes|on)\b",
    re.I,
)
_OFF_KEYS = frozenset(
    {
        "tls",
        "ssl",
        "usessl",
        "use_ssl",
        "use_tls",
        "ssl_enabled",
        "tls_enabled",
        "encrypt",
        "require_ssl",
        "sslmode",
    }
)
_ON_KEYS = frozenset(
    {
        "insecure",
        "insecure_skip_verify",
        "insecureskipverify",
        "tls_insecure",
        "skip_tls_verify",
        "ssl_insecure",
    }
)
_FALSY = frozenset({"false", "0", "no", "off", "disable", "allow", "prefer"})
_HOST_TEXT = re.compile(r"^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*|\[[0-9A-Fa-f:.]+\])$")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$", re.I)  # one label: a compose/k8s service
# cloud instance metadata services: link-local and plain HTTP by design
_METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata", "169.254.169.254", "169.254.170.2", "fd00:ec2::254"}
)
_TRUTHY = frozenset({"true", "1", "yes", "on"})
_PLAIN_SCHEMES = {
    "http": "https",
    "redis": "rediss",
    "amqp": "amqps",
    "ldap": "ldaps",
    "ftp": "sftp/ftps",
    "mqtt": "mqtts",
}
_DOC_HOSTS = re.compile(
    r"(^|\.)(w3\.org|json-schema\.org|xmlsoap\.org|apache\.org|purl\.org|xml\.org|"
    r"opensource\.org|gnu\.org|fsf\.org|creativecommons\.org|schema\.org|schemastore\.org|"
    r"xmlns\.com|ns\.adobe\.com|openxmlformats\.org|oasis-open\.org|"
    r"springframework\.org|java\.sun\.com|xmlpull\.org|"
    r"docbook\.org|dublincore\.org|schemas\.microsoft\.com|schemas\.android\.com)$",
    re.I,
)
# a URL that is an identifier, not an endpoint: namespaces, schema locations, licences
_IDENTIFIER_CONTEXT = re.compile(
    r"xmlns|schemaLocation|\$schema|\$id|@context|<!DOCTYPE|<!--|licen[cs]e|SPDX|copyright|"
    r"yaml-language-server",
    re.I,
)
_IDENTIFIER_PATH = re.compile(r"/(?:licenses?|schemas?|ns|xmlns|dtd|xsd)(?:/|\.|$)", re.I)
_SKIP_KEYS = frozenset(
    {
        "$schema", "xmlns", "$id", "schema", "namespace", "homepage", "documentation", "source",
        "license", "licence", "license_url", "licenseurl", "repository", "url_template", "doc",
        "docs", "docs_url", "description", "help", "website", "@context", "@id", "@type",
    }
)  # fmt: skip


class UnencryptedConnection(Rule):
    id = "SW-SCAN-005"
    title = "Unencrypted connection"
    severity = Severity.MEDIUM
    description = (
        "A connection is configured without transport encryption: `sslmode=disable|allow|"
        "prefer` (URL or key=value DSN), `http://`, `redis://`, `amqp://` or `ldap://` to a "
        "host that is not loopback, `tls=false`/`ssl=false`, or certificate checks switched "
        "off (`insecure`, `insecure_skip_verify`). High severity when the other end is a "
        "production resource or the file is production; low for a one-label service name "
        "(`http://web:9000` between containers). URLs that are identifiers are not "
        "connections: licence files, XML/SVG/XSD namespaces, `$schema`, schema and licence "
        "URLs, HTML comments, cloud metadata endpoints; in examples, documentation and test "
        "fixtures, URLs to names reserved for documentation (`example.com`, `*.example`, "
        "`*.test`, `*.invalid`: RFC 2606/6761)."
    )
    remediation = (
        "Use `sslmode=verify-full` (or `require` at least), `https://`, `rediss://`, "
        "`amqps://`, and keep certificate verification on."
    )
    controls = ("A.8.24", "A.8.20", "A.5.14")
    tags = ("encryption",)

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        if ctx.parsed is None:
            return
        seen: set[tuple[int, str]] = set()
        # an example, document or fixture is not deployed: its URL to a name reserved for
        # documentation (``http://api.example.com``, ``*.test``) connects to nothing
        example = ctx.attribution is EXAMPLE_ENV
        for entry in ctx.parsed.entries:
            for problem, host in self._problems(entry):
                if (entry.line, problem) in seen:
                    continue
                if example and host and "://" in problem and documentation_host(host):
                    continue
                seen.add((entry.line, problem))
                prod = ctx.tier is Tier.PRODUCTION
                local = bool(host) and _SERVICE_NAME.match(host or "") is not None
                if host:
                    ref = ctx.index.lookup(host, heuristic=True)
                    prod = prod or (ref is not None and ref.attribution.tier is Tier.PRODUCTION)
                severity = Severity.HIGH if prod else Severity.MEDIUM
                if local and problem.startswith(tuple(_PLAIN_SCHEMES)):
                    # ``http://web:9000``: a container or service name on a local network
                    severity, problem = Severity.LOW, problem + " (service name, local network)"
                yield ctx.finding(
                    UnencryptedConnection,
                    problem + (" (production)" if prod else ""),
                    entry.line,
                    f"{'.'.join(entry.path)}: {problem}" if entry.path != ("",) else problem,
                    severity=severity,
                    anchor=f"{'.'.join(entry.path)}|{problem}",
                )

    def _problems(self, entry: Entry) -> Iterable[tuple[str, str | None]]:
        value, key = entry.value, entry.key
        if key in _SKIP_KEYS or key.startswith("xmlns"):
            return
        low = value.strip().lower()
        has_url = "://" in value
        first = URL.search(value) if has_url else None
        host = first.group("host") if first else None
        if key in _OFF_KEYS and low in _FALSY:
            yield f"{key} is {low}", host
        if key in _ON_KEYS and low in _TRUTHY:
            yield f"{key} is {low} (certificate checks off)", host
        if "=" not in value and ":" not in value:
            return  # no flag, DSN or URL can be in it
        for match in _SSLMODE.finditer(value):
            yield f"sslmode={match.group(1).lower()}", host
        for match in _FLAG_OFF.finditer(value):
            yield f"{match.group(1).lower()}={match.group(2).lower()}", host
        for match in _FLAG_ON.finditer(value):
            yield (
                f"{match.group(1).lower()}={match.group(2).lower()} (certificate checks off)",
                host,
            )
        if not has_url:
            return
        identifier_context = bool(_IDENTIFIER_CONTEXT.search(value))
        for match in URL.finditer(value):
            scheme, target = match.group("scheme").lower(), match.group("host")
            if scheme not in _PLAIN_SCHEMES or is_loopback(target) or _DOC_HOSTS.search(target):
                continue
            if scheme == "http" and (
                identifier_context or _IDENTIFIER_PATH.search(match.group("rest") or "")
            ):
                continue
            if not _HOST_TEXT.match(target) or target.lower() in _METADATA_HOSTS:
                continue
            yield f"{scheme}:// to {target.lower()} (use {_PLAIN_SCHEMES[scheme]}://)", target
