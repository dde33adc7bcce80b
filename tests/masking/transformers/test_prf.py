"""Known-answer and reference tests for the AES PRF, keyed hash and base32 the transformers use."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._aesprf import RowPrf
from stagewall.masking.transformers._batch import base32_rows, keyed_hash

KEY = bytes(range(16))


def _aes(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def test_aes_known_answer_fips197() -> None:
    # FIPS-197 appendix C.1: the block cipher under the vectorised PRF is AES-128.
    key = bytes(range(16))
    rows = np.frombuffer(bytes.fromhex("00112233445566778899aabbccddeeff"), dtype=np.uint8)
    tag = RowPrf(key, key).tag(rows.reshape(1, 16))
    assert tag.tobytes().hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 50), st.integers(1, 6), st.integers(1, 70), st.data())
def test_row_prf_is_cbc_mac_then_counter_expansion(n: int, m: int, nbytes: int, data: Any) -> None:
    rows = [data.draw(st.binary(min_size=n, max_size=n)) for _ in range(m)]
    mac_key, x_key = b"k" * 16, b"x" * 16
    got = RowPrf(mac_key, x_key)(
        np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(m, n), nbytes
    )
    for row, out in zip(rows, got.tolist(), strict=True):
        msg = row + bytes(-n % 16 if n else 16)
        tag = bytes(16)
        for i in range(0, len(msg), 16):
            tag = _aes(mac_key, bytes(a ^ b for a, b in zip(tag, msg[i : i + 16], strict=True)))
        if nbytes <= 16:
            expected = tag
        else:
            expected = b"".join(
                _aes(x_key, tag[:14] + bytes([tag[14] ^ (j >> 8), tag[15] ^ (j & 255)]))
                for j in range(-(-nbytes // 16))
            )
        assert bytes(out[:nbytes]) == expected[:nbytes]


def test_keyed_hash_depends_on_key_label_and_text_not_on_the_batch() -> None:
    texts = ["a", "ab", "", "ab\x00", "Jane Doe", "ä"]
    h = keyed_hash(b"\x01" * 32, "l", texts)
    assert len(set(h.tolist())) == len(texts)
    assert [int(keyed_hash(b"\x01" * 32, "l", [t])[0]) for t in texts] == h.tolist()
    assert (keyed_hash(b"\x02" * 32, "l", texts) != h).all()
    assert (keyed_hash(b"\x01" * 32, "m", texts) != h).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 23), st.integers(1, 8), st.randoms(use_true_random=False))
def test_base32_rows_equals_stdlib(n: int, m: int, rnd: object) -> None:
    rows = np.array(
        [[rnd.randrange(256) for _ in range(n)] for _ in range(m)],  # type: ignore[attr-defined]
        dtype=np.uint8,
    ).reshape(m, n)
    expected = [base64.b32encode(r.tobytes()).decode().lower().rstrip("=") for r in rows]
    assert base32_rows(rows) == expected
