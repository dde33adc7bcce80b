"""ip_address and fpe_uuid on values written with other scripts' digits (each test
failed before its fix): ip_address stopped the run on 192.168.1.1 in Arabic-Indic
digits ("not an IP address"); fpe_uuid gave a UUID written in Arabic-Indic digits the output of its
ASCII spelling (two source values, one pseudonym: a unique constraint broken)."""

from __future__ import annotations

import ipaddress
import random
import sqlite3
import uuid
from pathlib import Path

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY

ZEROS = ("\u0660", "\u06f0", "\u0966", "\uff10")  # Arabic-Indic, Persian, Devanagari, full-width


def _script(text: str, zero: str) -> str:
    return text.translate({48 + d: ord(zero) + d for d in range(10)})


def _ascii(text: str) -> str:
    return "".join(str(int(c)) if c.isdecimal() else c for c in text)


def test_ip_addresses_in_other_digits_are_masked_in_their_script() -> None:
    ip = build_transformer("ip_address", {}, key=KEY, salt="s")
    plain = ["192.168.1.1", "8.8.4.4", "10.0.0.7", "2001:db8::1", "203.0.113.9/24"]
    written = [_script(a, z) for a in plain for z in ZEROS]
    out = ip.transform(plain + written)
    ascii_out, other_out = out[: len(plain)], out[len(plain) :]
    assert len(set(out)) == len(out)  # one output per spelling
    for src, new in zip(written, other_out, strict=True):
        assert isinstance(new, str) and new != src
        zero = next(c for c in src if c.isdecimal() and not c.isascii())
        # every digit of the output is a digit of the input's script
        assert all(ord(c) - int(c) == ord(zero) - int(zero) for c in new if c.isdecimal())
        ipaddress.ip_interface(_ascii(new))
    # the masked value is the mask of the ASCII spelling, written in the script
    for k in range(len(plain)):
        for j in range(len(ZEROS)):
            assert _ascii(str(other_out[k * len(ZEROS) + j])) == ascii_out[k]


def test_a_column_of_ip_addresses_in_arabic_digits_is_masked_and_verified(tmp_path: Path) -> None:
    src_path = tmp_path / "src.db"
    rows = [(i, _script(f"10.{i}.{i * 7 % 256}.{200 - i}", ZEROS[i % 2])) for i in range(1, 40)]
    with sqlite3.connect(src_path) as conn:
        conn.execute("CREATE TABLE hits (id INTEGER PRIMARY KEY, ip TEXT UNIQUE)")
        conn.executemany("INSERT INTO hits VALUES (?, ?)", rows)
    conn.close()
    src, tgt = f"sqlite:///{src_path}", f"sqlite:///{tmp_path / 'tgt.db'}"
    col = ColumnPlan(transformer="ip_address", params={}, reason="test")
    keep = ColumnPlan(transformer="keep", params={}, reason="test")
    plan = Plan(tables={"hits": TablePlan(columns={"id": keep, "ip": col})})
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    with sqlite3.connect(tmp_path / "tgt.db") as conn:
        got = dict(conn.execute("SELECT id, ip FROM hits").fetchall())
    conn.close()
    assert not set(got.values()) & {v for _, v in rows}
    assert all(not c.isascii() for v in got.values() for c in v if c.isdecimal())


def test_fpe_uuid_gives_each_spelling_of_a_uuid_its_own_output() -> None:
    fpe = build_transformer("fpe_uuid", {}, key=KEY, salt="s")
    rng = random.Random(3)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(150)]
    spelt = [
        *ids,
        *(_script(u, ZEROS[0]) for u in ids),
        *(_script(u.upper(), ZEROS[1]) for u in ids),
        *("{" + u[:9] + _script(u[9:], ZEROS[2]) + "}" for u in ids),  # mixed scripts
    ]
    out = fpe.transform(spelt)
    assert len(set(out)) == len(spelt)  # injective on distinct inputs
    assert fpe.transform(spelt) == out  # deterministic
    for src, new in zip(spelt, out, strict=True):
        assert isinstance(new, str) and len(new) == len(src)
        back = uuid.UUID(_ascii(new))
        assert back.version == 4 and back.variant == uuid.RFC_4122
        assert _ascii(new) != _ascii(src)
        # digits stay digits of their script, where they were; the rest keeps its form
        for a, b in zip(src, new, strict=True):
            if a.isdecimal() and not a.isascii():
                assert b.isdecimal() and ord(b) - int(b) == ord(a) - int(a)
            elif not a.isalnum():
                assert a == b
    # the ASCII spellings are masked as before (outputs of existing runs stay)
    assert out[: len(ids)] == fpe.transform(ids)
