"""Forging packs the way an operator holding the log key would."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagewall.evidence.pack import build_pack, sign_manifest
from stagewall.keys import load_signing_key

if TYPE_CHECKING:
    from tests.evidence.history import History


def read_pack(path: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    return files, json.loads(files["manifest.json"])


def signed_zip(files: dict[str, bytes], manifest: dict[str, Any], out: Path) -> Path:
    """The pack's files, re-hashed into the manifest and re-signed with the log key."""
    manifest["files"] = {
        n: hashlib.sha256(d).hexdigest() for n, d in files.items() if not n.startswith("manifest.")
    }
    raw = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            if not name.startswith("manifest."):
                z.writestr(name, data)
        z.writestr("manifest.json", raw)
        z.writestr("manifest.sig", sign_manifest(raw, load_signing_key()))
    return out


def store_sql(history: History, *statements: tuple[str, tuple[object, ...]]) -> None:
    """The insider's own connection: SQLite enforces no foreign keys unless asked."""
    db = sqlite3.connect(str(history.db).removeprefix("sqlite:///"))
    with db:
        for sql, args in statements:
            db.execute(sql, args)
    db.close()


def pack_of(history: History, tmp_path: Path, name: str = "pack.zip") -> Path:
    out = tmp_path / name
    build_pack(history.inputs(), out, signing_key=load_signing_key(), pdf=False)
    return out


def population(pack: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_pack(pack)[0][name].decode())))


def with_population(pack: Path, name: str, rows: list[dict[str, str]], out: str) -> Path:
    """The pack with population ``name`` replaced by ``rows``, re-signed with the log key."""
    files, manifest = read_pack(pack)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    files[name] = buf.getvalue().encode()
    return signed_zip(files, manifest, pack.with_name(out))
