"""The witness side of C2SP tlog-witness ``add-checkpoint`` (transport-free).

:meth:`Witness.add_checkpoint` takes the raw request body and returns the HTTP
status, content type and body the spec prescribes:

* 404 unknown origin, 403 no signature by a trusted log key, 400 malformed or
  old size larger than the checkpoint size;
* 409 (``text/x.tlog.size``, the size it last cosigned) when the old size is not
  that size, or when the sizes are equal and the roots differ;
* 422 when the RFC 6962 consistency proof does not verify;
* 200 with the ``cosignature/v1`` line once the new state is persisted.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from stagewall.audit._checkpoint import CheckpointInvalid, parse_note, verify_checkpoint
from stagewall.audit._merkle import verify_consistency
from stagewall.keys import PublicKey
from stagewall.witness._state import WitnessState

MAX_BODY = 1 << 20
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"^old (0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", (message + "\n").encode())


class _Reject(Exception):
    def __init__(self, response: Response, reason: str) -> None:
        super().__init__(reason)
        self.response = response
        self.reason = reason


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    if len(body) > MAX_BODY:
        raise _Reject(_text(400, "request too large"), "too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject(_text(400, "request is not UTF-8"), "not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise _Reject(_text(400, "no empty line before the checkpoint"), "malformed")
    lines = head.split("\n")
    m = _OLD.match(lines[0])
    if m is None:
        raise _Reject(_text(400, "the first line must be `old <size>`"), "malformed")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _Reject(_text(400, "more than 63 consistency proof lines"), "malformed")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            h = b""
        if len(h) != 32:
            raise _Reject(_text(400, "a proof line is not a base64 SHA-256 hash"), "malformed")
        proof.append(h)
    return int(m.group(1)), proof, note


class Witness:
    """Verify submissions against the witness state and cosign consistent checkpoints."""

    def __init__(self, state: WitnessState) -> None:
        self.state = state

    def now(self) -> int:
        """The cosignature timestamp: this witness's clock, POSIX seconds."""
        return int(time.time())

    def add_checkpoint(self, body: bytes) -> Response:
        try:
            old, proof, note = _parse_request(body)
            cp, _sigs = parse_note(note, source="checkpoint")
        except _Reject as exc:
            return exc.response
        except CheckpointInvalid as exc:
            return _text(400, exc.message)
        with self.state.exclusive() as conn:
            keys = self.state.log_keys(conn, cp.origin)
            if not keys:
                return _text(404, f"unknown log origin {cp.origin}")
            if not any(self._signed_by(note, key) for key in keys):
                return _text(403, "no signature by a trusted key for this origin")
            try:
                self._check(conn, old, proof, note, cp.size, cp.root, cp.origin)
            except _Reject as exc:
                if exc.response.status in (409, 422):
                    conn.execute(
                        "INSERT INTO refused (origin, received, status, reason, request) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (cp.origin, _utc(), exc.response.status, exc.reason, body.decode()),
                    )
                return exc.response
            conn.execute(
                "INSERT INTO latest (origin, size, root, note, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, "
                "root = excluded.root, note = excluded.note, updated = excluded.updated",
                (cp.origin, cp.size, cp.root, note, _utc()),
            )
        # Persisted (committed) before the cosignature leaves the witness.
        line = self.state.key.cosign(note[: note.rfind("\n\n") + 1], self.now())
        return Response(200, "text/plain; charset=utf-8", line.encode())

    @staticmethod
    def _signed_by(note: str, key: PublicKey) -> bool:
        try:
            verify_checkpoint(note, key, source="checkpoint")
        except CheckpointInvalid:
            return False
        return True

    def _check(
        self,
        conn: sqlite3.Connection,
        old: int,
        proof: list[bytes],
        note: str,
        size: int,
        root: bytes,
        origin: str,
    ) -> None:
        if old > size:
            raise _Reject(_text(400, "old size is larger than the checkpoint size"), "old > size")
        latest = self.state.latest(conn, origin)
        have = latest.size if latest is not None else 0
        conflict = Response(409, SIZE_TYPE, f"{have}\n".encode())
        if old != have:
            raise _Reject(conflict, f"old size {old} is not the cosigned size {have}")
        if latest is None:
            if proof:
                raise _Reject(_text(422, "the proof must be empty for old size 0"), "proof")
            return
        if old == size:
            if root != latest.root:
                raise _Reject(conflict, f"a different root for cosigned size {size}")
            return
        if not verify_consistency(old, size, latest.root, root, proof):
            raise _Reject(
                _text(422, "the consistency proof does not verify"),
                f"inconsistent with cosigned size {old}",
            )


def _utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["MAX_BODY", "SIZE_TYPE", "Response", "Witness"]
