"""Credentials and secrets in the repository, graded by the environment they belong to."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from stagewall.scan._env import EXAMPLE_ENV, live_is_environment
from stagewall.scan._model import Finding, Severity, Tier, redact
from stagewall.scan._refs import URL, documentation_host
from stagewall.scan.readers import DOCUMENTATION
from stagewall.scan.rules._base import FileContext, Rule

KNOWN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),
    ("GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Stripe live key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}\b")),
    (
        "private key",
        re.compile(
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
        ),
    ),
)
_FORMAT_HINT = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|k_live_|PRIVATE KEY"
)
_ALWAYS_PROD = frozenset({"Stripe live key"})
_ASSIGN = re.compile(
    r"(?P<key>[A-Za-z0-9_.-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|client[_-]?secret|auth)[A-Za-z0-9_.-]{0,40})[\"']?\s*[:=]\s*[\"']?"
    r"(?P<value>[^\s\"',;]{8,})",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"^(?:\$|%|<|\{|\*|x{4,}|changeme|change_me|example|dummy|redacted|secret|password|"
    r"placeholder|your|none|null|true|false|todo)|\$\{|\{\{|\bsecrets\.|env\(|vault:|ref\+|arn:",
    re.IGNORECASE,
)
_TRIGGER = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|k_live_|PRIVATE KEY|://|pass|pwd|"
    r"secret|token|key|auth",
    re.IGNORECASE,
)
# _TRIGGER over lower-cased ASCII text: the same matches, ten times faster than an
# IGNORECASE alternation (which the regex engine cannot prefix-scan)
_TRIGGER_LOWER = re.compile(
    r"akia|asia|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|k_live_|private key|://|pass|pwd|"
    r"secret|token|key|auth"
)
_ASSIGN_LOWER = re.compile(_ASSIGN.pattern)  # for lower-cased ASCII lines, as above
# a stored password hash, not a password: Django's ``<algorithm>$...$...``
# (``pbkdf2_sha256$600000$salt$hash``, ``argon2$argon2id$v=19$...``, ``bcrypt_sha256$$2b$...``)
# and modular crypt (``$2b$12$...``, ``$argon2id$...``, ``$6$salt$hash``)
PASSWORD_HASH = re.compile(
    r"^(?:(?:pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|sha1|md5|crypt)"
    r"\$[^$\s]*\$|\$(?:2[abxy]?|argon2(?:id|i|d)|[156]|y|7|sha1|pbkdf2(?:-sha\d+)?)\$)",
    re.IGNORECASE,
)


def assignments(line: str) -> Iterable[tuple[str, str, int]]:
    """(key, value, where the value starts) of each ``_ASSIGN`` match in ``line``."""
    if line.isascii():
        for match in _ASSIGN_LOWER.finditer(line.lower()):
            start = match.start("value")
            yield line[match.start("key") : match.end("key")], line[start : match.end()], start
    else:
        for match in _ASSIGN.finditer(line):
            yield match.group("key"), match.group("value"), match.start("value")


_PROD_WORD = re.compile(r"(?<![a-z])(prod|production|prd|live)(?![a-z])", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"([a-z0-9]*)[^a-z0-9]*$")
_WORD_AFTER = re.compile(r"[^a-z0-9]*([a-z0-9]*)")


def production_word(line: str) -> bool:
    """Whether ``line`` says production in a word of its own: ``prod``, ``production``,
    ``prd``, or ``live`` as an environment (``STRIPE_LIVE_KEY``; not ``LIVE_CHAT_TOKEN``,
    ``LIVERELOAD_PORT``, ``DELIVERY_API_KEY``; see ``live_is_environment``)."""
    for match in _PROD_WORD.finditer(line):
        if match.group(1).lower() != "live":
            return True
        lowered = line.lower()
        before = _WORD_BEFORE.search(lowered, 0, match.start(1))
        after = _WORD_AFTER.match(lowered, match.end(1))
        if live_is_environment(before.group(1) if before else "", after.group(1) if after else ""):
            return True
    return False


_SECRET_NAMES = frozenset(
    {"password", "passwd", "pwd", "pass", "secret", "token", "credential", "credentials"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "secret", "private", "signing", "encryption", "master"}
)
_CODE_VALUE = re.compile(r"[()\[\]{}]|^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def _secret_key(key: str) -> bool:
    """True for ``db_password``, ``API_KEY``, ``auth_token``; not ``authors``, ``tokens``."""
    parts = [p for p in re.split(r"[_.\-]+|(?<=[a-z])(?=[A-Z])", key.strip("\"'")) if p]
    words = [p.lower() for p in parts]
    if not words:
        return False
    if words[-1] in _SECRET_NAMES:
        return True
    if words[-1] in ("apikey", "secretkey", "accesskey", "privatekey", "authtoken"):
        return True
    return words[-1] == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


def _literal(value: str) -> bool:
    """A literal value, not code (``url.password``, ``os.environ[...]``, ``f(x)``)."""
    return not _CODE_VALUE.search(value)


_REFERENCE = re.compile(
    r"^(?:var|local|module|data|each|self|path|terraform)\.|^!|^\$|^%\(|\$\{|\{\{|#\{|"
    r"\bsecrets\.|\benv\.|^env:|^arn:|^projects/[^/]+/secrets/|^(?:vault|ref\+|sm|ssm|awssm):|"
    r"\.\*|\.\+|\$/",
    re.IGNORECASE,
)
_NAME_SEGMENT = re.compile(r"^(?:[a-z]+|[A-Z]+|[A-Z]?[a-z]+|\d{1,4})$")
_REPEATED = re.compile(r"^(.{1,24}?)\1{2,}.{0,24}$", re.DOTALL)
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]+")


def looks_like_secret(value: str) -> bool:
    """True for values shaped like credentials; False for references (``var.x``,
    ``${...}``, ``!Ref``), names (``iap-oauth-client-id``, ``prod/db/password``),
    placeholders and filler (``privatekeyprivatekey...``)."""
    value = value.strip().strip("\"'")
    if len(value) < 8 or _PLACEHOLDER.search(value) or _REFERENCE.search(value):
        return False
    segments = [p for p in re.split(r"[-_./:]+", value) if p]
    if segments and all(_NAME_SEGMENT.match(p) for p in segments) and len(segments) > 1:
        return False  # words joined by separators: the name of a secret, not a secret
    if _REPEATED.match(value) or len(set(value)) < max(5, len(value) // 6):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    return classes >= 2 and entropy(value) >= 3.0


def key_material(text: str) -> bool:
    """Whether the text after a ``BEGIN ... PRIVATE KEY`` line holds key material
    (base64 with mixed case), not filler or an empty template."""
    body = "".join(_KEY_BODY.findall(text.replace("\\n", "\n")[:400]))
    if len(body) < 16 or _REPEATED.match(body):
        return False
    return any(c.islower() for c in body) and any(c.isupper() for c in body)


def entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


class SecretInRepository(Rule):
    id = "SW-SCAN-004"
    title = "Credential or secret in the repository"
    severity = Severity.MEDIUM
    description = (
        "A credential is written into a file: a known token format (AWS access key, GitHub, "
        "GitLab, Slack, Stripe live key), a private key block, a password inside a URL, or a "
        "high-entropy `password=`/`secret=`/`token=` assignment. Comments are scanned too. "
        "Severity is high when the secret belongs to production (production file, production "
        "host in the URL, a `prod` key name, a live payment key), medium for other known "
        "formats and low for other high-entropy assignments. Only values shaped like "
        "credentials count (mixed character classes, entropy, not a repeated pattern): "
        "references (`var.x`, `${...}`, `!Ref`, `secrets.X`), secret-manager names "
        "(`iap-oauth-client-id`, `prod/db/password`, `projects/p/secrets/s`), placeholders "
        "and filler such as a private key block of `privatekeyprivatekey` are not secrets; "
        "nor is a password in a URL to a documentation host (`example.com`, `*.test`, "
        "RFC 2606) in prose, and such a host's words never make a password production. "
        "A password hash (Django `pbkdf2_sha256$...`, `argon2$...`, `bcrypt$...`, modular "
        "crypt `$2b$...`) in an example, document or test fixture is not a credential; "
        "elsewhere it is reported like any other assignment (low, high in production): a "
        "hash of a real password can be cracked offline. "
        "Evidence shows only a prefix and the length."
    )
    remediation = (
        "Revoke and rotate the credential, remove it from the file and its git history, and "
        "load it at run time from a secret store that non-production users cannot read."
    )
    controls = ("A.5.17", "A.8.24", "A.8.31")
    tags = ("secrets",)

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        file_prod = ctx.tier is Tier.PRODUCTION
        prose = ctx.rel.lower().endswith(DOCUMENTATION)
        # a fixture's user rows (Django ``auth.user`` fixtures) hold password hashes: no
        # one can sign in with a hash, and a fixture's is of a test password
        example = ctx.attribution is EXAMPLE_ENV
        text = ctx.text
        starts: list[int] = []
        triggers = (
            _TRIGGER_LOWER.finditer(text.lower()) if text.isascii() else _TRIGGER.finditer(text)
        )
        for trigger in triggers:
            start = text.rfind("\n", 0, trigger.start()) + 1
            if not starts or starts[-1] != start:
                starts.append(start)
        number, counted = 1, 0
        for start in starts:
            number += text.count("\n", counted, start)
            counted = start
            end = text.find("\n", start)
            line = text[start : end if end >= 0 else len(text)].rstrip("\r")
            if len(line) > 20000:
                line = line[:20000]
            claimed: list[tuple[int, int]] = []
            line_prod = file_prod or production_word(line)
            for label, pattern in KNOWN_FORMATS if _FORMAT_HINT.search(line) else ():
                for match in pattern.finditer(line):
                    claimed.append(match.span())
                    if label == "private key":
                        after = text[start + match.end() : start + match.end() + 600]
                        if not key_material(after.split("-----END", 1)[0]):
                            continue
                    prod = line_prod or label in _ALWAYS_PROD
                    secret = match.group(0)
                    evidence = "private key block" if label == "private key" else redact(secret)
                    yield self._finding(ctx, label, number, evidence, prod, Severity.MEDIUM)
            for match in URL.finditer(line) if "://" in line else ():
                password = match.group("password")
                if (
                    not password
                    or _PLACEHOLDER.search(password)
                    or _REFERENCE.search(password)
                    or match.group("user") is None
                ):
                    continue
                claimed.append(match.span())
                if documentation_host(match.group("host")):
                    # ``db.prod.example.com`` (RFC 2606/6761): a placeholder in prose; in
                    # configuration still a password, but its host's words say nothing
                    if prose:
                        continue
                    prod = file_prod
                else:
                    ref = ctx.index.lookup(match.group("host"), heuristic=True)
                    prod = line_prod or (
                        ref is not None and ref.attribution.tier is Tier.PRODUCTION
                    )
                shown = redact(password, token=False)
                evidence = (
                    f"{match.group('scheme')}://{match.group('user')}:{shown}@{match.group('host')}"
                )
                yield self._finding(ctx, "password in URL", number, evidence, prod, Severity.MEDIUM)
            for key, value, at in assignments(line) if not prose else ():
                if any(s <= at < e for s, e in claimed):
                    continue
                if not _secret_key(key) or not _literal(value):
                    continue
                if not looks_like_secret(value) or (
                    example and PASSWORD_HASH.match(value.strip("\"'"))
                ):
                    continue
                yield self._finding(
                    ctx,
                    f"{key} assignment",
                    number,
                    redact(value, token=False),
                    line_prod,
                    Severity.LOW,
                )

    def _finding(
        self, ctx: FileContext, label: str, line: int, evidence: str, prod: bool, base: Severity
    ) -> Finding:
        where = "production " if prod else ""
        return ctx.finding(
            SecretInRepository,
            f"{where}{label} in a {ctx.attribution.label} file",
            line,
            evidence,
            severity=Severity.HIGH if prod else base,
            anchor=f"{label}|{evidence}",
        )
