"""What the checkpoint signer signed last, kept beside its key, out of the store's reach.

The store is the one thing an insider can write without the signing key. Were the
signer to build each checkpoint on the store's word (its newest checkpoint row, its
leaf hashes), an insider could roll the store back to an older backup, or delete the
checkpoint rows and rewrite the events, and the server would sign the result: a
history the key never signed before, now signed. So the signer keeps, per log, the
tree state (size, root, compact range) of the newest checkpoint it committed, in
``audit_signed.json`` in the key's own directory, and extends only that: it refuses
to sign when the store holds fewer events than that, or its newest checkpoint row
does not lie on that tree. Rewritten events below the remembered size cannot enter a
signed root either (the root is computed from the remembered compact range).

The memory of a log is kept under the log's id, the hash of its first event (what
the log is, whatever URL reaches it: a store moved to another host, or the same
database under another hostname or path spelling, keeps its memory), and under the
store's URL as before (so a store whose first event was rewritten in place is still
caught). Every entry found is checked; the signer extends the largest.

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


def log_id(first_leaf: bytes) -> str:
    """The memory key of the log whose first event has leaf hash ``first_leaf``."""
    return f"log:{first_leaf.hex()}"


class SignerMemory:
    """The remembered tree state of one log, in one key directory, under each of its
    ids (the log's own id and the URL of the store it was reached by)."""

    def __init__(self, directory: Path, store_ids: tuple[str, ...]) -> None:
        self.path = directory / FILE
        self.store_ids = tuple(dict.fromkeys(store_ids))

    @classmethod
    def of(
        cls, home_dir: str | os.PathLike[str] | None, key: SigningKey, *store_ids: str
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
        return cls(directory, store_ids)

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

    def read(self) -> list[Signed]:
        """Every distinct tree state remembered under one of this log's ids, smallest first."""
        data = self._all()
        found: dict[tuple[int, bytes], Signed] = {}
        for store_id in self.store_ids:
            signed = self._entry(data.get(store_id))
            if signed is not None:
                found.setdefault((signed.size, signed.root), signed)
        return [found[k] for k in sorted(found)]

    def _entry(self, entry: object) -> Signed | None:
        if entry is None:
            return None
        if not isinstance(entry, dict):
            from stagewall.audit._checkpoint import CheckpointInvalid

            raise CheckpointInvalid(f"{self.path} is damaged (an entry is not a mapping)")
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
        changed = False
        for store_id in self.store_ids:
            old = data.get(store_id)
            if isinstance(old, dict) and int(str(old.get("size", -1))) >= signed.size:
                continue
            data[store_id] = {
                "size": signed.size,
                "root": signed.root.hex(),
                "frontier": signed.frontier.to_bytes().hex(),
            }
            changed = True
        if not changed:
            return
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


__all__ = ["FILE", "Signed", "SignerMemory", "log_id"]
