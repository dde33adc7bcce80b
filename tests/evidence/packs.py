"""Forging packs the way an operator holding the log key would."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from stagewall.evidence.pack import sign_manifest
from stagewall.keys import load_signing_key


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
