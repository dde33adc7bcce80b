"""What the checkpoint signer signed last, kept beside its key, out of the store's reach.

The store is the one thing an insider can write without the signing key. Were the
signer to build each checkpoint on the store's word (its newest checkpoint row, its
leaf hashes), an insider could roll the store back to an older backup, or delete the
checkpoint rows and rewrite the events, and the server would sign the result: a
history the key never signed before, now signed. So the signer keeps, per store, the
tree state (size, root, compact range) of the newest checkpoint it committed, in
``audit_signed.json`` in the key's own directory, and extends only that: it refuses
to sign when the store holds fewer events than that, or its newest checkpoint row
does not lie on that tree. Rewritten events below the remembered size cannot enter a
signed root either (the root is computed from the remembered compact range).

Only a key loaded from (or equal to the key in) that directory keeps a memory there.
A lost file only means the next checkpoint starts again from the store's word.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stagewall.audit._merkle import Frontier
from stagewall.errors import StagewallError
from stagewall.keys import SigningKey
from stagewall.keys._files import SIGNING_KEY_FILE, load_signing_key
from stagewall.paths import home

FILE = "audit_signed.json"


@dataclass(frozen=True)
class Signed:
    size: int
    root: bytes
    frontier: Frontier


class SignerMemory:
    """The remembered tree state of one store, in one key directory."""

    def __init__(self, directory: Path, store_id: str) -> None:
        self.path = directory / FILE
        self.store_id = store_id

    @classmethod
    def of(
        cls, home_dir: str | os.PathLike[str] | None, key: SigningKey, store_id: str
    ) -> SignerMemory | None:
        """The memory for ``key`` when it is the key kept in ``home_dir``, else None."""
        try:
            directory = home(home_dir)
            if not (directory / SIGNING_KEY_FILE).is_file():
                return None
            if load_signing_key(directory).public.raw != key.public.raw:
                return None
        except (StagewallError, OSError):  # no usable key file there: nothing to remember
            return None
        return cls(directory, store_id)

    def _all(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            from stagewall.audit._checkpoint import CheckpointInvalid

            raise CheckpointInvalid(
                f"{self.path} (what this server signed last) is unreadable: {exc}",
                hint="restore it from a backup of the key directory; delete it only after "
                "checking the log against a witness or a checkpoint you trust",
            ) from None
        return data if isinstance(data, dict) else {}

    def read(self) -> Signed | None:
        entry = self._all().get(self.store_id)
        if entry is None:
            return None
        try:
            size = int(str(entry["size"]))
            root = bytes.fromhex(str(entry["root"]))
            frontier = Frontier.from_bytes(size, bytes.fromhex(str(entry["frontier"])))
        except (KeyError, TypeError, ValueError) as exc:
            from stagewall.audit._checkpoint import CheckpointInvalid

            raise CheckpointInvalid(f"{self.path} is damaged ({exc})") from None
        return Signed(size, root, frontier)

    def write(self, signed: Signed) -> None:
        """Remember ``signed`` unless a larger tree is remembered already (atomic)."""
        data = self._all()
        old = data.get(self.store_id)
        if isinstance(old, dict) and int(str(old.get("size", -1))) >= signed.size:
            return
        data[self.store_id] = {
            "size": signed.size,
            "root": signed.root.hex(),
            "frontier": signed.frontier.to_bytes().hex(),
        }
        fd, tmp = tempfile.mkstemp(prefix=".audit_signed-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, sort_keys=True, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


__all__ = ["FILE", "Signed", "SignerMemory"]
