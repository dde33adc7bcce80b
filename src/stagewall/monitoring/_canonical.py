"""The canonical bytes of an event, written directly (the hot path of ingestion).

Byte for byte what ``canonical_bytes(event.document(...))`` gives (sorted keys, no
spaces, UTF-8, strings escaped by the json module's own C routine); a property test
compares the two on random events. Building the dict and sorting it per event cost
more than half of the time of appending to the monitoring log. The parts that come
from the event's shape, identities and the estate mapping are written once per
distinct combination and reused, and each class has its own format (3.2 -> 2.3 -> 1.55
us per event on the labelled month); tests/monitoring/test_canonical_specialised.py
holds the per-field writer this replaced and compares.
"""

from __future__ import annotations

import json.encoder
from functools import lru_cache

from stagewall.monitoring.events import FAILURE, SUCCESS, Event, _shape

_S = json.encoder.encode_basestring  # ensure_ascii=False: the C routine when available


@lru_cache(maxsize=1024)
def _head(product: str, class_uid: int, activity_id: int) -> tuple[str, str, str, str, int]:
    cls, activity_name, class_name, code = _shape(product, class_uid, activity_id)
    start = f'{{"activity_id":{activity_id},"activity_name":{_S(activity_name)}'
    middle = f',"category_uid":{cls // 1000},"class_name":{_S(class_name)},"class_uid":{cls}'
    meta = f',"metadata":{{"event_code":{_S(code)},"log_index":'
    vendor = '"vendor_name":"stagewall ingest"},"version":"1.3.0"}'
    tail = f',"product":{{"name":{_S(product)},{vendor}'
    return start, middle, meta, tail, cls


_FALSE_TRUE = ("false", "true")
_STATUS = {SUCCESS: 1, FAILURE: 2}
# ~1.6 KB an entry (the labelled month needs 825): at most ~13 MB, as the identity-only
# cache this replaced (16384 entries of ~0.8 KB)
_CACHE_MAX = 8192

# Everything but the per-event fields (time, index, hashes, addresses, session, host,
# statement, object, sizes) is written once per distinct combination of the fields it
# comes from (class, activity, product, status, identity and estate mapping, flags) and
# kept: the class and the parts between the per-event fields. Cleared when full, so
# memory stays bounded.
_Parts = tuple[int, str, str, str, str, str, str, str, str, str]
_parts: dict[tuple[object, ...], _Parts] = {}


def _write_parts(ev: Event) -> _Parts:
    """The fixed parts of ``ev``'s document, in key order, split at its per-event fields."""
    s = _S
    start, middle, meta, meta_tail, cls = _head(ev.product, ev.class_uid, ev.activity_id)
    target, operation = ev.target, ev.operation
    user = f'{{"name":{s(ev.user)}' + (f',"uid":{s(ev.principal)}}}' if ev.principal else "}")
    actor = "" if cls == 3002 else f',"actor":{{"user":{user}}}'
    api = f',"api":{{"operation":{s(operation)}}}' if cls == 6003 else ""
    store = ""
    if cls == 6005:
        if ev.product == "cloudtrail":
            store = f',"databucket":{{"name":{s(target)}}}'
        elif target:
            store = f',"database":{{"name":{s(target)}}}'
    res = f',"resources":[{{"name":{s(target)}}}]' if cls == 6003 and target else ""
    who = f',"unmapped":{{"actor":{s(ev.actor)},"affiliation":{s(ev.affiliation)}'
    fsn, grant, off = ev.first_seen_network, ev.grant_active, ev.off_hours
    where = (
        (f',"claim":{s(ev.claim)}' if ev.claim else "")
        + (f',"environment":{s(ev.environment)}' if ev.resource else "")
        + ("" if fsn is None else f',"first_seen_network":{_FALSE_TRUE[fsn]}')
        + ("" if grant is None else f',"grant_active":{_FALSE_TRUE[grant]}')
        + f',"log_name":{s(ev.source)}'
        + ("" if off is None else f',"off_hours":{_FALSE_TRUE[off]}')
        + (f',"operation":{s(operation)}' if operation else "")
        + f',"principal_kind":{s(ev.principal_kind)}'
    )
    resource = f',"resource":{s(ev.resource)}' if ev.resource else ""
    tail = (
        (f',"target":{s(target)}' if target else "")
        + f',"tier":{s(ev.tier)}'
        + (f',"vendor":{s(ev.vendor)}' if ev.vendor else "")
        + (f',"volume_anomaly":{s(ev.volume_anomaly)}' if ev.volume_anomaly else "")
        + "}"
        + (f',"user":{user}' if cls == 3002 else "")
        + "}"
    )
    return (
        cls,
        start + actor + api,  # then auth_protocol (3002)
        middle + store,  # then dst_endpoint, file (6006)
        meta,  # then the index and the previous chain hash
        meta_tail + res,  # then query_info (6005: never with resources), session
        f',"status_id":{_STATUS.get(ev.status, 0)}',  # after src_endpoint; then table
        f'","type_uid":{cls * 100 + ev.activity_id}{who}',  # after the time; then bytes
        where,  # then raw_sha256
        resource,  # then rows
        tail,
    )


def canonical(ev: Event, index: int, prev_hash: str, time_text: str) -> bytes:
    """The event's canonical bytes: one format per event, no dict, no sorting.

    ``prev_hash`` (lowercase hex) and ``time_text`` (from :func:`~stagewall.monitoring.
    events.iso`) are the writer's own values, never a log's: they hold nothing JSON
    escapes, so they are written without the escaping call (checked in tests).
    """
    key = (
        ev.class_uid,
        ev.activity_id,
        ev.product,
        ev.status,
        ev.user,
        ev.principal,
        ev.actor,
        ev.affiliation,
        ev.resource,
        ev.environment,
        ev.first_seen_network,
        ev.grant_active,
        ev.source,
        ev.off_hours,
        ev.operation,
        ev.principal_kind,
        ev.target,
        ev.tier,
        ev.vendor,
        ev.volume_anomaly,
        ev.claim,
    )
    parts = _parts.get(key)
    if parts is None:
        if len(_parts) >= _CACHE_MAX:
            _parts.clear()
        parts = _parts[key] = _write_parts(ev)
    cls, p_start, p_class, p_meta, p_product, p_status, p_type, p_where, p_resource, p_tail = parts
    s = _S
    host, session, src_ip, nbytes, raw_hash, rows = (
        ev.host,
        ev.session,
        ev.src_ip,
        ev.bytes,
        ev.raw_hash,
        ev.rows,
    )
    dst = f',"dst_endpoint":{{"hostname":{s(host)}}}' if host else ""
    sess = f',"session":{{"uid":{s(session)}}}' if session else ""
    src = f',"src_endpoint":{{"ip":{s(src_ip)}}}' if src_ip else ""
    size = f',"bytes":{nbytes}' if nbytes else ""
    raw = f',"raw_sha256":{s(raw_hash)}' if raw_hash else ""
    nrows = f',"rows":{rows}' if rows else ""
    if cls == 3002:
        detail = ev.detail
        proto = f',"auth_protocol":{s(detail)}' if detail else ""
        text = (
            f"{p_start}{proto}{p_class}{dst}{p_meta}{index},"
            f'"prev_hash":"{prev_hash}"{p_product}{sess},"severity_id":1{src}{p_status}'
            f',"time":"{time_text}{p_type}{size}{p_where}{raw}{p_resource}{nrows}{p_tail}'
        )
    elif cls == 6005:
        detail, obj = ev.detail, ev.object
        query = f',"query_info":{{"query_string":{s(detail)}}}' if detail else ""
        table = f',"table":{{"name":{s(obj)}}}' if obj else ""
        text = (
            f"{p_start}{p_class}{dst}{p_meta}{index},"
            f'"prev_hash":"{prev_hash}"{p_product}{query}{sess},"severity_id":1{src}'
            f'{p_status}{table},"time":"{time_text}{p_type}{size}{p_where}{raw}{p_resource}'
            f"{nrows}{p_tail}"
        )
    else:
        file = f',"file":{{"name":{s(ev.object)},"size":{nbytes}}}' if cls == 6006 else ""
        text = (
            f"{p_start}{p_class}{dst}{file}{p_meta}{index},"
            f'"prev_hash":"{prev_hash}"{p_product}{sess},"severity_id":1{src}{p_status}'
            f',"time":"{time_text}{p_type}{size}{p_where}{raw}{p_resource}{nrows}{p_tail}'
        )
    return text.encode("utf-8", "surrogateescape")


__all__ = ["canonical"]
