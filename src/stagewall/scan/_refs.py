"""Find references to resources (hosts, URLs, buckets, accounts, IPs) in values and
say which environment each belongs to: declared in the estate, else by its name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import unquote

from stagewall.estate import Estate, ResourceKind
from stagewall.estate.hosts import Address, address
from stagewall.scan._env import EnvModel
from stagewall.scan._images import image_of
from stagewall.scan._model import Attribution, Entry, Tier

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]{1,20})://"
    r"(?:(?P<user>[^/@\s:'\"]*)(?::(?P<password>[^/@\s'\"]*))?@)?"
    r"(?P<host>\[[0-9a-f:.]+\]|[^/:\s?#,'\"@;\\)\]}]+)(?::(?P<port>\d{1,5}))?"
    r"(?P<rest>[^\s'\"]*)",
    re.IGNORECASE,
)
_DSN_HOST = re.compile(r"(?:^|\s)(?:host|hostaddr|server|data source)\s*=\s*'?([^\s;']+)", re.I)
_TOKEN_SPLIT = re.compile(r"[\s,;'\"()\[\]{}=<>|`]+")
_HOSTISH_KEYS = re.compile(
    r"(^|_|-|\.)(host|hostname|server|endpoint|address|addr|domain|bucket|bucket_name|queue|"
    r"queue_url|topic|api|api_url|base_url|url|uri|dsn|broker|brokers)$",
    re.I,
)
# ``${NAME:-word}``, ``${NAME-word}``, ``${NAME:=word}``, ``${NAME=word}`` (and ``+``):
# shell, docker compose and .env interpolation with a value of its own, which is what
# the program reaches whenever the variable is unset. The innermost first.
_SHELL_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=+]([^{}]*)\}")
_MAX_NESTING = 8
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def expand_defaults(value: str) -> str:
    """``value`` with every ``${NAME:-word}``-style interpolation replaced by its word."""
    for _ in range(_MAX_NESTING):
        expanded = _SHELL_DEFAULT.sub(lambda m: m.group(1), value)
        if expanded == value:
            break
        value = expanded
    return value


def _hosts_after(rest: str) -> list[str]:
    """The further hosts of a libpq host list (``postgresql://u@h1:5432,h2,h3/db``):
    every one of them is a server the program may connect to."""
    if not rest.startswith(","):
        return []
    out: list[str] = []
    for item in re.split(r"[/?#]", rest, maxsplit=1)[0].split(",")[1:]:
        item = item.strip()
        if item.startswith("["):
            item = item[: item.find("]") + 1] if "]" in item else item
        elif item.count(":") == 1:
            item = item.split(":", 1)[0]
        if item:
            out.append(item)
    return out


# ``$NAME``, ``${NAME}`` (and ``${NAME:-..}``), ``secrets.NAME`` / ``vars.NAME`` /
# ``env.NAME`` (GitHub Actions): a variable read by name.
_VARIABLE_REF = re.compile(r"(?:\$\{?|\b(?:secrets|vars|env)\.)([A-Za-z_][A-Za-z0-9_]*)")

_HOSTNAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*\.[a-z][a-z0-9-]*$", re.I)
_LABEL = re.compile(r"^[a-z][a-z0-9_.-]{2,62}$", re.I)
_NAMED_KEYS = re.compile(r"(bucket|queue|topic)", re.I)
# values that are never resource identifiers, whatever key they sit under
_NOT_IDENTIFIERS = frozenset(
    {
        "true", "false", "yes", "no", "on", "off", "null", "none", "nil", "enabled", "disabled",
        "enable", "disable", "default", "auto", "any", "all", "private", "public", "internal",
        "external", "main", "master", "latest", "stable", "local", "unknown", "empty", "string",
        "number", "bool", "list", "map", "object", "required", "optional", "standard",
    }
)  # fmt: skip


def is_identifier(token: str) -> bool:
    """A host, bucket, queue, account or ARN-like name; not a boolean, number or word."""
    key = token.strip().strip(".").lower()
    if key in _NOT_IDENTIFIERS or len(key) < 3:
        return False
    if key.replace(".", "").replace("_", "").isdigit():
        return False
    if "." in key or ":" in key or "/" in key:
        return True
    # a single label must look made-up: separators or digits (``assets-prod``, ``q1``)
    return len(key) >= 4 and any(c in key for c in "-_0123456789")


_INTERNAL_SUFFIXES = (".internal", ".local", ".lan", ".corp", ".svc", ".intranet", ".private")
_WEB_SCHEMES = frozenset({"http", "https", "ws", "wss", "git", "ssh", "git+ssh", "ftp"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "0.0.0.0", "::"})  # noqa: S104


@dataclass(frozen=True)
class Ref:
    """A resource referenced by a value."""

    text: str
    resource: str | None
    attribution: Attribution
    declared: bool
    infrastructure: bool = False

    @property
    def key(self) -> str:
        return self.resource or self.text


# What an IP address can look like at all: ``ipaddress`` (which raises, slowly, for
# everything else) is only asked about these. IPv4 has three dots, IPv6 a colon; an
# IPv6 zone (``%eth0``) may follow.
_IPISH = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:.]*)(?:%\S+)?", re.I)


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    if not _IPISH.fullmatch(host):
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _as_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip("[]")
    if not _IPISH.fullmatch(text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _as_net(text: str) -> IPNetwork | None:
    if "/" not in text or not _IPISH.fullmatch(text.split("/", 1)[0]):
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


class ResourceIndex:
    """Estate identifiers, domains and networks, plus name heuristics."""

    def __init__(self, estate: Estate | None, env: EnvModel) -> None:
        self.env = env
        self.exact: dict[str, tuple[str, str]] = {}
        self.domains: list[tuple[str, str, str]] = []
        self.networks: list[tuple[IPNetwork, str, str]] = []
        self.urls: list[tuple[str, str, str]] = []
        # addresses by value, so ``2001:db8::0:5`` and ``::ffff:10.0.0.5`` find theirs
        self.addresses: dict[Address, tuple[str, str]] = {}
        # the estate's connection_env / admin_connection_env names: reading one of them
        # reaches that resource, whatever the URL inside is
        self.variables: dict[str, tuple[str, str]] = {}
        # the same tokens (``var.x``, ``this``, a VPC's CIDR) recur across thousands of
        # values; a lookup depends only on its arguments, so it is computed once
        self._memo: dict[tuple[str, bool, bool], Ref | None] = {}
        self._refs_memo: dict[tuple[str, bool, bool], list[Ref]] = {}
        self._key_facts: dict[str, tuple[bool, bool]] = {}
        # registry resources (``host[/repository prefix]``) and image tag conventions
        self.registries: list[tuple[str, str, str]] = []
        self.image_tags: list[tuple[str, str]] = []
        if estate is None:
            return
        for env_name, environment in estate.environments.items():
            self.image_tags += [(glob, env_name) for glob in environment.image_tags]
        for name, res in estate.resources.items():
            for var in (res.connection_env, res.admin_connection_env):
                if var:
                    self.variables.setdefault(var, (name, res.environment))
            for ident in res.all_identifiers():
                self.exact.setdefault(ident, (name, res.environment))
                ip = address(ident)
                if ip is not None:
                    self.addresses.setdefault(ip, (name, res.environment))
                net = _as_net(ident)
                if net is not None:
                    self.networks.append((net, name, res.environment))
                elif "://" in ident:
                    self.urls.append((ident.rstrip("/"), name, res.environment))
                    match = URL.match(ident)
                    if match:
                        self.exact.setdefault(match.group("host").lower(), (name, res.environment))
                if res.kind is ResourceKind.DOMAIN and "://" not in ident:
                    self.domains.append(("." + ident.lstrip("."), name, res.environment))
                if res.kind is ResourceKind.REGISTRY:
                    self.registries.append((ident.rstrip("/"), name, res.environment))

    def _declared(self, text: str, name: str, env: str) -> Ref:
        return Ref(
            text, name, Attribution(env, self.env.tier_of(env), f"estate resource {name}"), True
        )

    def lookup(self, token: str, *, heuristic: bool, single_label: bool = False) -> Ref | None:
        """The resource ``token`` (a host, IP, CIDR, bucket, account id, URL) refers to."""
        memo = (token, heuristic, single_label)
        try:
            return self._memo[memo]
        except KeyError:
            pass
        if len(self._memo) > 200_000:
            self._memo.clear()
        found = self._memo[memo] = self._lookup(token, heuristic, single_label)
        return found

    def _lookup(self, token: str, heuristic: bool, single_label: bool) -> Ref | None:
        key = token.strip().strip(".").lower()
        if not key or is_loopback(key):
            return None
        hit = self.exact.get(key)
        if hit:
            return self._declared(key, *hit)
        for suffix, name, env in self.domains:
            if key.endswith(suffix):
                return self._declared(key, name, env)
        ip = _as_ip(key)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        net = _as_net(key) if ip is None else None
        if ip is not None and ip in self.addresses:
            return self._declared(key, *self.addresses[ip])
        if ip is not None or net is not None:
            for network, name, env in self.networks:
                if (ip is not None and ip.version == network.version and ip in network) or (
                    net is not None and net.version == network.version and net.overlaps(network)
                ):
                    return self._declared(key, name, env)
            return None
        if not is_identifier(key):
            return None
        if heuristic and (_HOSTNAME.match(key) or (single_label and _LABEL.match(key))):
            att = self.env.from_words(key, f"name {key}")
            if att is not None:
                return Ref(key, None, att, False)
            return Ref(key, None, Attribution(None, Tier.UNKNOWN, "undeclared"), False)
        return None

    def refs(self, entry: Entry) -> list[Ref]:
        """Every resource reference in one value."""
        value = entry.value
        if not value or len(value) > 4096:
            return []
        key = entry.key
        # the result depends on the value and on two facts about the key, and the same
        # values (``${var.x}``, ``true``, a tag) and keys recur across thousands of entries
        facts = self._key_facts.get(key)
        if facts is None:
            if len(self._key_facts) > 100_000:
                self._key_facts.clear()
            facts = self._key_facts[key] = (
                bool(_HOSTISH_KEYS.search(key)),
                bool(_NAMED_KEYS.search(key)),
            )
        memo = (value, *facts)
        try:
            found = list(self._refs_memo[memo])
        except KeyError:
            if len(self._refs_memo) > 100_000:
                self._refs_memo.clear()
            self._refs_memo[memo] = self._refs(*memo)
            found = list(self._refs_memo[memo])
        # A list item that is a declared connection variable's name, alone: a docker
        # compose pass-through (``environment: [- NAME]``) hands the host's variable to
        # the container. Elsewhere such a name is a name (a Kubernetes env ``name:``, a
        # secret's key), not a read of the variable.
        whole = value.strip()
        if key.isdigit() and whole in self.variables:
            ref = self._variable_ref(whole)
            if all(r.key != ref.key for r in found):
                found.append(ref)
        if key in _IMAGE_KEYS:
            for ref in self._image_refs(entry):
                if all(r.key != ref.key for r in found):
                    found.append(ref)
        return found

    def _image_refs(self, entry: Entry) -> list[Ref]:
        """The registry (estate ``registry`` resources by host and repository prefix, else
        a registry host named production) and the estate tag convention of an image."""
        image = image_of(entry)
        if image is None:
            return []
        out: list[Ref] = []
        repo = image.repository
        for prefix, name, env in self.registries if repo else ():
            if repo == prefix or repo.startswith(prefix + "/"):
                out.append(self._declared(repo, name, env))
                break
        if not out and image.registry:
            ref = self.lookup(image.registry, heuristic=True)
            if ref is not None and ref.attribution.tier is not Tier.UNKNOWN:
                out.append(ref)
        if image.tag and self.image_tags:
            hits = {env: glob for glob, env in self.image_tags if fnmatchcase(image.tag, glob)}
            tiers = {self.env.tier_of(env) for env in hits}
            if len(tiers) == 1:  # a tag both tiers' conventions match says nothing
                env, glob = next(iter(hits.items()))
                shown = f"{repo}:{image.tag}" if repo else f"image tag {image.tag}"
                reason = f"estate image tag convention {glob!r} of {env}"
                out.append(Ref(shown, None, Attribution(env, tiers.pop(), reason), True))
        return out

    def _refs(self, value: str, hostish_key: bool, named_key: bool, depth: int = 0) -> list[Ref]:
        out: dict[str, Ref] = {}
        if "%" in value and depth < _MAX_NESTING:
            # percent-encoded (``db%2Eprod``, a URL inside a query string): what it decodes
            # to is what a client connects to
            decoded = unquote(value)
            if decoded != value and _PERCENT.search(value):
                for found in self._refs(decoded, hostish_key, named_key, depth + 1):
                    out.setdefault(found.key, found)
        if "${" in value:
            expanded = expand_defaults(value)
            if expanded != value:
                for found in self._refs(expanded, hostish_key, named_key, depth + 1):
                    out.setdefault(found.key, found)
        if self.variables:
            for var in self._variables_in(value):
                found = self._variable_ref(var)
                out.setdefault(found.key, found)
        hostish = hostish_key or standalone_address(value)
        named = hostish and named_key
        # without an estate only names that look like addresses can refer to anything
        indexed = bool(self.exact or self.domains or self.networks)
        for match in URL.finditer(value) if "://" in value else ():
            first = match.group("host")
            if "${" in first or "{{" in first or first.startswith("$"):
                continue
            for host in (first, *_hosts_after(match.group("rest"))):
                if "${" in host or "{{" in host or host.startswith("$"):
                    continue
                ref = self.lookup(host, heuristic=True)
                if ref is not None:
                    infra = match.group("scheme").lower() not in _WEB_SCHEMES or _internal(host)
                    out.setdefault(ref.key, replace(ref, infrastructure=infra))
            if "://" in match.group("rest") and depth < _MAX_NESTING:
                # a URL inside another's path or query (``?to=postgres://...``)
                for found in self._refs(match.group("rest"), hostish_key, named_key, depth + 1):
                    out.setdefault(found.key, found)
            whole = match.group(0).rstrip("/").lower()
            for url, name, env in self.urls:
                if whole.startswith(url.lower()):
                    r = self._declared(url, name, env)
                    out.setdefault(r.key, r)
        for match in _DSN_HOST.finditer(value) if "=" in value else ():
            ref = self.lookup(match.group(1), heuristic=True)
            if ref is not None:
                out.setdefault(ref.key, replace(ref, infrastructure=True))
        if self.exact or self.networks or hostish or "." in value:
            for token in _TOKEN_SPLIT.split(value):
                if not token or "://" in token or len(token) > 253:
                    continue
                parts = {token}
                if ":" in token and not _as_ip(token.strip("[]")):
                    parts |= set(re.split(r"[:/@]", token))
                address = _ADDRESS.match(token)
                host_part = address.group("host") if address else token
                # a token that is itself an address (``-h db.prod.acme.internal`` in a
                # script) counts whatever the key
                addressy = hostish or standalone_address(token)
                if not addressy and not indexed:
                    continue  # lookup() answers None for every part: nothing declared
                for part in parts:
                    ref = self.lookup(
                        part, heuristic=addressy and part in (token, host_part), single_label=named
                    )
                    if ref is not None and (ref.declared or addressy):
                        infra = named or _internal(part)
                        out.setdefault(ref.key, replace(ref, infrastructure=infra))
        return list(out.values())

    def _variables_in(self, value: str) -> list[str]:
        """The declared connection variables ``value`` reads: ``${NAME}``, ``$NAME``,
        ``secrets.NAME``, ``vars.NAME``, ``env.NAME``."""
        if "$" in value or "secrets." in value or "vars." in value or "env." in value:
            return [v for v in _VARIABLE_REF.findall(value) if v in self.variables]
        return []

    def _variable_ref(self, var: str) -> Ref:
        name, env = self.variables[var]
        return Ref(
            f"${var}",
            name,
            Attribution(env, self.env.tier_of(env), f"estate connection_env of {name}"),
            True,
            True,
        )


_IMAGE_KEYS = frozenset({"image", "repository", "repo", "tag", "name"})
_ADDRESS = re.compile(
    r"^(?P<host>\[[0-9a-f:.]+\]|[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*)(?::(?P<port>\d{1,5}))?$",
    re.I,
)


@lru_cache(maxsize=65536)
def standalone_address(value: str) -> bool:
    """A whole value that is an address: ``host:port``, an IP, or a host name of three
    or more labels (``redis.shop-prod.svc``), whatever key it sits under."""
    match = _ADDRESS.match(value.strip())
    if match is None:
        return False
    host = match.group("host")
    if _as_ip(host) is not None:
        return True
    if not _HOSTNAME.match(host) or not is_identifier(host):
        return False
    return match.group("port") is not None or host.count(".") >= 2


_DOC_DOMAINS = ("example.com", "example.net", "example.org")
_DOC_TLDS = frozenset({"example", "test", "invalid", "localhost"})


def documentation_host(host: str) -> bool:
    """A name reserved for documentation and tests (RFC 2606, RFC 6761): ``example.com``
    and its sub-domains, ``*.example``, ``*.test``, ``*.invalid``, ``*.localhost``."""
    name = host.strip("[]").rstrip(".").lower()
    if name in _DOC_DOMAINS or name.endswith(tuple("." + d for d in _DOC_DOMAINS)):
        return True
    return name.rsplit(".", 1)[-1] in _DOC_TLDS


def _internal(host: str) -> bool:
    """A private name or address: infrastructure, not a public SaaS endpoint."""
    host = host.strip("[]").lower()
    if host.endswith(_INTERNAL_SUFFIXES):
        return True
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False
