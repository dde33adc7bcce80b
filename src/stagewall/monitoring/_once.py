"""Each post of a log shipper is taken once: the ``Idempotency-Key`` of the ingest API.

A shipper whose connection dropped after it sent a post cannot know whether the server
stored the lines. Without a key, retrying stores them a second time: the events are
in the monitoring log twice, volume baselines count them twice and every finding is
alerted twice. With ``Idempotency-Key: "<key>"`` (the IETF httpapi draft's header; a
bare token is taken too) the server keeps, per source and for a day, the key, the
SHA-256 of the body and the answer the post got:

- the first post with a key claims it in the ingest's own store transaction, before a
  line is parsed; the answer is written in that transaction, so the claim and the lines
  are stored together or not at all (a failed ingest leaves no claim to retry against);
- a post with a key already taken and the same body gets the stored answer, marked
  ``replayed``, and stores, counts and alerts nothing;
- the same key with another body is refused (422, SW978): the shipper reuses keys;
- a post while the first with its key is still being ingested by another server
  instance waits for that transaction (the claim is a primary-key row) and then gets
  its answer.

Keys are the shipper's own strings, 1-128 visible ASCII characters, scoped to the
token's source; a malformed key is refused (400, SW979) before anything is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from stagewall.errors import IngestKeyInvalid, IngestKeyReused
from stagewall.identity._seal import row_mac
from stagewall.monitoring.log import _sql

KEEP_SECONDS = 86_400.0  # a retry a day later is a new post
MAX_KEY = 128

_CLAIM = (
    "INSERT INTO monitoring_ingest_posts "
    "(source, post_key, body_digest, answer, taken_at, row_mac) "
    "VALUES (?, ?, ?, NULL, ?, NULL) ON CONFLICT (source, post_key) DO NOTHING"
)
_TAKEN = (
    "SELECT body_digest, answer, row_mac FROM monitoring_ingest_posts "
    "WHERE source = ? AND post_key = ?"
)
_ANSWER = (
    "UPDATE monitoring_ingest_posts SET answer = ?, row_mac = ? WHERE source = ? AND post_key = ?"
)
_RECLAIM = (
    "UPDATE monitoring_ingest_posts SET body_digest = ?, answer = NULL, taken_at = ?, "
    "row_mac = NULL WHERE source = ? AND post_key = ?"
)
_PRUNE = "DELETE FROM monitoring_ingest_posts WHERE source = ? AND taken_at < ?"
_LABEL = "ingest post"


@dataclass(frozen=True)
class PostKey:
    """A post's key and the digest of what it carried."""

    key: str
    digest: str


def key_of(header: str | None) -> str | None:
    """The post's key from its ``Idempotency-Key`` header (None without one).

    Raises IngestKeyInvalid for a key that is empty, too long or not visible ASCII."""
    if header is None:
        return None
    raw = header.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]  # an sf-string, as the draft writes it
    if not raw or len(raw) > MAX_KEY or not all("!" <= c <= "~" for c in raw) or '"' in raw:
        raise IngestKeyInvalid(
            f"the Idempotency-Key header must be 1-{MAX_KEY} visible ASCII characters "
            "without spaces or quotes inside"
        )
    return raw


def post_key(key: str | None, body: bytes, is_json: bool) -> PostKey | None:
    """``key`` with the digest of the body it came with (None without a key)."""
    if key is None:
        return None
    digest = hashlib.sha256((b"json\n" if is_json else b"text\n") + body).hexdigest()
    return PostKey(key, digest)


def claim(
    conn: Connection, mac_key: bytes, source: str, key: PostKey, now: float
) -> dict[str, Any] | None:
    """Claim ``key`` for this post in ``conn``'s transaction, or the earlier answer.

    Returns None when this post is to be ingested (the key's first post; the caller
    ingests it and calls :func:`answer` in the same transaction), or the answer stored
    for an earlier post with the same body. A stored answer is believed only under its
    MAC (the server's token key): a row someone wrote into the store, which could make
    the server drop a shipper's lines as "already taken", is overwritten and the post is
    ingested (twice stored is the safe side of once dropped)."""
    conn.exec_driver_sql(_sql(conn, _PRUNE), (source, now - KEEP_SECONDS))
    if conn.exec_driver_sql(_sql(conn, _CLAIM), (source, key.key, key.digest, now)).rowcount:
        return None
    row = conn.exec_driver_sql(_sql(conn, _TAKEN), (source, key.key)).first()
    if row is None:  # pruned by another instance between the two statements
        conn.exec_driver_sql(_sql(conn, _CLAIM), (source, key.key, key.digest, now))
        return None
    digest, stored, mac = str(row[0]), row[1], row[2]
    sealed = isinstance(stored, str) and isinstance(mac, str)
    if sealed and not hmac.compare_digest(mac, _mac(mac_key, source, key.key, digest, stored)):
        sealed = False
    if sealed and digest != key.digest:
        raise IngestKeyReused(
            f"Idempotency-Key {key.key!r} was already used for another body of source "
            f"{source!r} in the last day"
        )
    previous = _loaded(stored) if sealed else None
    if previous is None:
        conn.exec_driver_sql(_sql(conn, _RECLAIM), (key.digest, now, source, key.key))
        return None
    return previous


def _loaded(stored: str) -> dict[str, Any] | None:
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _mac(mac_key: bytes, source: str, key: str, digest: str, answer: str) -> str:
    return row_mac(mac_key, _LABEL, (source, key, digest, answer))


def answer(
    conn: Connection, mac_key: bytes, source: str, key: PostKey, body: dict[str, Any]
) -> None:
    """Store the answer of the post that claimed ``key`` (same transaction as its lines)."""
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    mac = _mac(mac_key, source, key.key, key.digest, text)
    conn.exec_driver_sql(_sql(conn, _ANSWER), (text, mac, source, key.key))


__all__ = ["KEEP_SECONDS", "PostKey", "answer", "claim", "key_of", "post_key"]
