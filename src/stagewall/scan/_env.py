"""Which environment is this file (or name) on? Estate first, conventions second.

Order for a file: estate ``paths`` globs, then path conventions (``envs/<env>/``,
``values-<env>.yaml``, ``.env.<env>``, ``<env>.tfvars``, ``terraform.tfstate.d/<ws>/``...).
Content (Kubernetes namespaces, estate resources referenced) is used by the engine
when the path says nothing. For names the estate wins over word heuristics: a host
declared as staging is staging even if its name contains "prod".
"""

from __future__ import annotations

import re
from functools import lru_cache

from stagewall.estate import Estate
from stagewall.estate import Tier as EstateTier
from stagewall.scan._model import UNKNOWN_ENV, Attribution, Tier

PROD_WORDS = frozenset({"prod", "production", "prd", "live"})
NONPROD_WORDS = frozenset(
    {
        "staging", "stage", "stg", "dev", "develop", "development", "test", "testing", "qa",
        "uat", "sandbox", "preview", "demo", "nonprod", "preprod", "local", "ci", "int",
    }
)  # fmt: skip
# "live" names production (``envs/live/``, ``STRIPE_LIVE_KEY``, ``shop-live``) except as
# the first half of a compound noun (``LIVE_CHAT_TOKEN``, ``live-reload``, ``live-stream``)
# or after "go"/"is" (``GO_LIVE_DATE``, ``IS_LIVE``). Substrings never count
# (``LIVERELOAD_PORT``, ``DELIVERY_API_KEY``, ``OLIVER_...``): names are split into words.
_LIVE_COMPOUNDS = frozenset(
    {
        "chat", "reload", "reloading", "stream", "streams", "streaming", "preview", "previews",
        "search", "view", "views", "update", "updates", "share", "sharing", "kit", "agent",
        "agents", "support", "feed", "feeds", "score", "scores", "event", "events", "video",
        "audio", "session", "sessions", "tail", "query", "queries", "sync", "edit", "editing",
        "server", "photo", "photos", "map", "location", "tracking", "activity", "activities",
        "blog", "region", "broadcast", "help", "ticker", "caption", "captions", "coding",
        "demo", "transcription", "translation", "poll", "polls", "reactions", "count",
    }
)  # fmt: skip
_LIVE_BEFORE = frozenset({"go", "is", "went", "goes", "going"})


def live_is_environment(before: str, after: str) -> bool:
    """Whether ``live`` between the words ``before`` and ``after`` (lower case, ``""`` at
    either end of the name) names the production environment."""
    return after not in _LIVE_COMPOUNDS and before not in _LIVE_BEFORE


_DIR_MARKERS = (
    "envs",
    "env",
    "environments",
    "environment",
    "overlays",
    "stages",
    "terraform.tfstate.d",
)
_SPLIT = re.compile(r"[^a-z0-9]+")
_DNS_SUFFIX = re.compile(r"\.(?:svc\.cluster\.local|cluster\.local|local|localdomain)(?::\d+)?$")
# files whose name words say the environment (``staging_config.tfvars``, ``prod-eu.env``)
_WORDY_NAMES = (".tfvars", ".tfvars.json", ".env", ".tfbackend")
_FILE_PATTERNS = (
    re.compile(r"^values[-_.](?P<env>[a-z0-9_-]+)\.ya?ml$"),
    re.compile(r"^\.env\.(?P<env>[a-z0-9_-]+)$"),
    # dotenv's per-mode local overrides (Vite, Next.js, dotenv-flow): `.env.staging.local`
    # is the staging mode's, not a "local" environment's
    re.compile(r"^\.env\.(?P<env>[a-z0-9_-]+)\.local$"),
    re.compile(r"^(?P<env>[a-z0-9_-]+)\.env$"),
    re.compile(r"^(?P<env>[a-z0-9_-]+)(?:\.auto)?\.tfvars(?:\.json)?$"),
    re.compile(r"^(?:docker-)?compose[-_.](?P<env>[a-z0-9_-]+)\.ya?ml$"),
    re.compile(r"^(?:application|appsettings|config|settings)[-_.](?P<env>[a-z0-9_-]+)\.[a-z]+$"),
    re.compile(r"^(?P<env>[a-z0-9_-]+)\.(?:ya?ml|json|toml|ini)$"),
)


# what is written to be read, not deployed: documentation, examples, test fixtures and
# ``*.example`` / ``*.sample`` copies of configuration. Such a file is in no environment
# (unless an estate glob says otherwise), so it crosses no wall; secrets in it still count.
_EXAMPLE_DIRS = frozenset(
    {
        "doc", "docs", "example", "examples", "sample", "samples", "fixture", "fixtures",
        "__fixtures__", "testdata", "test-data", "test_data",
    }
)  # fmt: skip
_EXAMPLE_WORDS = frozenset({"example", "sample"})


def _example_name(filename: str) -> bool:
    """``.env.example``, ``config.example.yml``, ``sentry.conf.example.py``,
    ``example.env``: a copy-me file (its dot-separated parts name it an example)."""
    return not _EXAMPLE_WORDS.isdisjoint(filename.split("."))


# directories of per-environment settings modules: ``settings/staging.py`` (Django),
# ``config/environments/staging.rb`` (Rails), ``config/staging.js`` (node-config)
CONFIG_DIRS = frozenset({"settings", "config", "configs", "conf", "environments"})
EXAMPLE_REASON = (
    "example or test fixture (docs/, examples/, fixtures/, testdata/, *.example, "
    "config.example.yml)"
)
EXAMPLE_ENV = Attribution(None, Tier.UNKNOWN, EXAMPLE_REASON)


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """``**`` spans directories, ``*`` and ``?`` stay within one path segment."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


class EnvModel:
    """Environment names, tiers and path rules from the estate (if any) and conventions."""

    def __init__(self, estate: Estate | None) -> None:
        self.estate = estate
        self._names: dict[str, str] = {}
        self._namespaces: dict[str, str] = {}
        if estate is not None:
            for name, env in estate.environments.items():
                self._names[name.lower()] = name
                for alias in env.aliases:
                    self._names.setdefault(alias.lower(), name)
                for ns in env.namespaces:
                    self._namespaces[ns.lower()] = name

    def tier_of(self, env: str) -> Tier:
        if self.estate is not None and env in self.estate.environments:
            declared = self.estate.environments[env].tier
            return Tier.PRODUCTION if declared is EstateTier.PRODUCTION else Tier.NON_PRODUCTION
        word = env.lower()
        if word in PROD_WORDS:
            return Tier.PRODUCTION
        if word in NONPROD_WORDS:
            return Tier.NON_PRODUCTION
        return Tier.UNKNOWN

    def environment_named(self, word: str, reason: str) -> Attribution | None:
        """The environment a single word (``prod``, ``staging``...) names, if any."""
        key = word.strip().lower()
        if not key:
            return None
        if key in self._names:
            env = self._names[key]
            return Attribution(env, self.tier_of(env), reason)
        tier = self.tier_of(key)
        if tier is Tier.UNKNOWN:
            return None
        return Attribution(key, tier, reason)

    def from_words(self, name: str, reason: str) -> Attribution | None:
        """Attribute a compound name (``shop-prod``, ``db.staging.example``) by its words.

        Mixed signals (``prod-mirror.staging``) give ``None``: unknown, never a guess.
        """
        found: dict[Tier, Attribution] = {}
        lowered = _DNS_SUFFIX.sub("", name.lower())  # ``.svc.cluster.local`` is not "local"
        words = [w for w in _SPLIT.split(lowered) if w]
        for i, word in enumerate(words):
            if word == "live" and not live_is_environment(
                words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""
            ):
                continue  # ``LIVE_CHAT_TOKEN``, ``go-live``: not an environment
            att = self.environment_named(word, reason)
            if att is not None:
                found.setdefault(att.tier, att)
        if len(found) != 1:
            return None
        return next(iter(found.values()))

    def attribute_path(self, rel_path: str) -> Attribution | None:
        if self.estate is not None:
            for name, env in self.estate.environments.items():
                for pattern in env.paths:
                    if glob_regex(
                        pattern.lstrip("./") if pattern.startswith("./") else pattern
                    ).match(rel_path):
                        return Attribution(
                            name, self.tier_of(name), f"estate path glob {pattern!r}"
                        )
        parts = rel_path.lower().split("/")
        if _example_name(parts[-1]) or not _EXAMPLE_DIRS.isdisjoint(parts[:-1]):
            return EXAMPLE_ENV
        for i, part in enumerate(parts[:-1]):
            if part in _DIR_MARKERS and i + 1 < len(parts) - 1:
                # ``envs/staging/``, and by its words ``envs/staging-eu/``,
                # ``overlays/prod-us-east-1/`` (mixed words: none)
                reason = f"directory {part}/{parts[i + 1]}/"
                att = self.environment_named(parts[i + 1], reason) or self.from_words(
                    parts[i + 1], reason
                )
                if att is not None:
                    return att
        filename = parts[-1]
        for file_pattern in _FILE_PATTERNS:
            match = file_pattern.match(filename)
            if match:
                att = self.environment_named(match.group("env"), f"file name {filename}")
                if att is not None:
                    return att
        if len(parts) > 1 and parts[-2] in CONFIG_DIRS:
            att = self.environment_named(
                filename.split(".", 1)[0], f"settings file {parts[-2]}/{filename}"
            )
            if att is not None:
                return att
        if filename.endswith(_WORDY_NAMES):
            # ``staging_config.tfvars``, ``prod_us-east-1.tfvars``: the words of the name
            stem = filename.split(".", 1)[0] if not filename.startswith(".") else filename[1:]
            att = self.from_words(stem, f"file name {filename}")
            if att is not None:
                return att
        for part in reversed(parts[:-1]):
            att = self.environment_named(part, f"directory {part}/")
            if att is not None:
                return att
        return None

    def attribute_namespace(self, namespace: str) -> Attribution | None:
        key = namespace.lower()
        if key in self._namespaces:
            env = self._namespaces[key]
            return Attribution(env, self.tier_of(env), f"estate namespace {namespace}")
        return self.from_words(namespace, f"namespace name {namespace}")


__all__ = [
    "CONFIG_DIRS",
    "EXAMPLE_ENV",
    "UNKNOWN_ENV",
    "EnvModel",
    "glob_regex",
    "live_is_environment",
]
