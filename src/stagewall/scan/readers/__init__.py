"""Readers: one module per format, chosen by file name (and content for YAML/JSON)."""

from __future__ import annotations

import re
from pathlib import Path

from stagewall.scan._env import CONFIG_DIRS
from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError
from stagewall.scan.readers.compose import add_interpolated
from stagewall.scan.readers.dotenv import read_dotenv
from stagewall.scan.readers.inifile import is_inventory, read_ini, read_inventory
from stagewall.scan.readers.jsonfile import read_json
from stagewall.scan.readers.kustomize import expand_patches, is_kustomization
from stagewall.scan.readers.template import is_template, read_template
from stagewall.scan.readers.terraform import TerraformContext, read_terraform
from stagewall.scan.readers.text import read_text
from stagewall.scan.readers.tfmodel import TfResource, Unknown
from stagewall.scan.readers.tomlfile import read_toml
from stagewall.scan.readers.yamlfile import classify_yaml, decode_secret_data, read_yaml

_INI_SECTION = re.compile(r"^\s*\[", re.MULTILINE)
_SETTINGS_NAMES = ("settings", "config", "configuration", "local_settings")
_INI = (".ini", ".cfg", ".conf", ".properties")
DOCUMENTATION = (".md", ".markdown", ".rst", ".adoc", ".txt")
SOURCE_CODE = (
    ".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".java", ".kt", ".rb", ".rs",
    ".c", ".h", ".cc", ".cpp", ".cs", ".php", ".scala", ".swift",
)  # fmt: skip


_LEGAL = re.compile(r"^(?:licen[cs]e|notice|copying|copyright|authors|patents)(?:[-_.].*)?$")
_PATCHES = (".patch", ".diff", ".orig", ".rej")  # changes to files, not the files
MARKUP = (".xml", ".svg", ".xsd", ".xsl", ".xslt", ".wsdl", ".html", ".htm", ".xhtml", ".plist")


# lockfiles pin packages by URL and hash: generated, integrity-checked, never a connection
# the application makes; read for secrets only
LOCKFILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
        "poetry.lock", "pipfile.lock", "uv.lock", "pdm.lock", "gemfile.lock", "composer.lock",
        "cargo.lock", "go.sum", "mix.lock", "packages.lock.json", "flake.lock",
        ".terraform.lock.hcl", "podfile.lock", "pubspec.lock",
    }
)  # fmt: skip


def is_legal(name: str) -> bool:
    """LICENSE, NOTICE, COPYING and friends: legal text, never configuration."""
    return bool(_LEGAL.match(name.lower()))


def is_dotenv(name: str) -> bool:
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def read_file(path: Path, rel_path: str, text: str, tf: TerraformContext) -> Parsed:
    """Parse ``text`` (the content of ``path``); raises :class:`ReaderError`."""
    try:
        return _read(path, rel_path, text, tf)
    except ReaderError:
        if "{{" not in rel_path.rsplit("/", 1)[0] or "/" not in rel_path:
            raise
        # a file of a project template (cookiecutter, copier: ``{{cookiecutter.slug}}/``)
        # is not valid until rendered: read line by line, not a parse error
        return read_text(text)


def _read(path: Path, rel_path: str, text: str, tf: TerraformContext) -> Parsed:
    name = path.name.lower()
    if is_legal(name) or name in LOCKFILES or name.endswith(MARKUP) or name.endswith(_PATCHES):
        # legal text, lockfiles, markup and patches: their URLs are identifiers, pins or
        # quotes, not connections
        return Parsed(Kind.TEXT, documents=[text])
    if name.endswith((".tf", ".tfvars")):
        return read_terraform(path, text, tf)
    if is_dotenv(name):
        return read_dotenv(text)
    if name.endswith((".yaml", ".yml", ".tpl")) and is_template(rel_path, text):
        return read_template(text, rel_path)
    if name.endswith((".yaml", ".yml")):
        parsed = read_yaml(text)
        parsed.kind = classify_yaml(parsed, rel_path)
        if parsed.kind is Kind.KUBERNETES:
            decode_secret_data(parsed)
        if parsed.kind is Kind.COMPOSE:
            add_interpolated(parsed, tf.dotenv(path.parent))
        if is_kustomization(rel_path, parsed):
            expand_patches(parsed)
        return parsed
    if name.endswith(".json5"):
        try:
            return read_json(text)
        except ReaderError:
            # JSON5 (unquoted keys, single quotes) is not read; skipped, not an error
            return Parsed(Kind.TEXT, documents=[text])
    if name.endswith((".json", ".tfstate", ".jsonc")):
        return read_json(text)
    if name.endswith(".toml"):
        return read_toml(text)
    if name.endswith(_INI):
        try:
            return read_ini(text)
        except ReaderError:
            if is_inventory(rel_path):
                return read_inventory(text)
            if not (
                name.endswith(".conf") or (name.endswith(".cfg") and not _INI_SECTION.search(text))
            ):
                raise
            # nginx, Apache, supervisord, Nagios/HAProxy .cfg without an INI section...:
            # a format we do not read; skipped (not an error), the raw-text rules
            # (secrets) still run
            return Parsed(Kind.TEXT, documents=[text])
    if name.endswith(DOCUMENTATION):
        # prose: host names in docs are not references; secrets are still found in the raw text
        return Parsed(Kind.TEXT, documents=[text])
    if name.endswith(SOURCE_CODE):
        # settings modules (``settings/staging.py``, ``config/production.rb``,
        # ``settings.py``) are configuration written as code: their quoted hosts count
        parts = rel_path.lower().split("/")
        settings = not CONFIG_DIRS.isdisjoint(parts[:-1]) or name.startswith(_SETTINGS_NAMES)
        return read_text(text, urls_only=True, literals=settings)
    return read_text(text)


__all__ = [
    "DOCUMENTATION",
    "LOCKFILES",
    "MARKUP",
    "SOURCE_CODE",
    "Kind",
    "LineFinder",
    "Parsed",
    "ReaderError",
    "TerraformContext",
    "TfResource",
    "Unknown",
    "is_dotenv",
    "is_legal",
    "read_file",
]
