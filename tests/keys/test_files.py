"""Key files: creation, modes, no overwrite, rotation, loading and refusal of open files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from stagewall.errors import ConfigError, KeyMissing
from stagewall.keys import (
    SigningKey,
    init_keys,
    load_masking_key,
    load_public_key,
    load_signing_key,
    masking_key_ids,
    parse_public_key,
)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_init_creates_private_files(_isolated_home: Path) -> None:
    res = init_keys(name="example.com/audit")
    assert res.signing_created and res.masking_created and res.home == _isolated_home
    assert _mode(_isolated_home / "audit_signing.key") == 0o600
    assert _mode(_isolated_home / "masking_keys.json") == 0o600
    key = load_signing_key()
    assert key.name == "example.com/audit" and "seed" not in repr(key).split("name")[0]
    assert load_public_key().raw == key.public.raw
    mk = load_masking_key()
    assert mk.key_id == res.current_masking_key and len(mk.secret) == 32
    assert "secret" not in repr(mk) or mk.secret.hex() not in repr(mk)


def test_rerun_does_not_overwrite(_isolated_home: Path) -> None:
    init_keys()
    before = (_isolated_home / "audit_signing.key").read_bytes()
    ring = (_isolated_home / "masking_keys.json").read_bytes()
    again = init_keys()
    assert not again.signing_created and not again.masking_created and again.rotated_to is None
    assert (_isolated_home / "audit_signing.key").read_bytes() == before
    assert (_isolated_home / "masking_keys.json").read_bytes() == ring


def test_rotate_masking_adds_a_current_key() -> None:
    first = init_keys()
    old = load_masking_key()
    res = init_keys(rotate_masking=True)
    assert res.rotated_to and res.rotated_to != first.current_masking_key
    ids, current = masking_key_ids()
    assert ids == [first.current_masking_key, res.rotated_to] and current == res.rotated_to
    assert load_masking_key().key_id == res.rotated_to
    assert load_masking_key(key_id=old.key_id) == old  # old key still usable for old runs


def test_missing_keys_raise_keymissing_with_hint() -> None:
    with pytest.raises(KeyMissing, match="no masking keyring at") as exc:
        load_masking_key()
    assert "stagewall keys init" in exc.value.hint
    with pytest.raises(KeyMissing, match="no audit signing key"):
        load_signing_key()
    with pytest.raises(KeyMissing, match="no public key"):
        load_public_key()
    init_keys()
    with pytest.raises(KeyMissing, match="masking key 'mk-nope' is not in"):
        load_masking_key(key_id="mk-nope")


@pytest.mark.parametrize("name", ["audit_signing.key", "masking_keys.json"])
def test_open_permissions_are_refused(_isolated_home: Path, name: str) -> None:
    init_keys()
    (_isolated_home / name).chmod(0o604)
    loader = load_signing_key if name.startswith("audit") else load_masking_key
    with pytest.raises(ConfigError, match=f"{name} has mode 0604: group or other users"):
        loader()


def test_corrupt_keyring_is_refused(_isolated_home: Path) -> None:
    init_keys()
    path = _isolated_home / "masking_keys.json"
    path.write_text(json.dumps({"keys": []}))
    with pytest.raises(ConfigError, match=r"masking keyring .* is not valid"):
        load_masking_key()


def test_name_mismatch_on_rerun_is_refused() -> None:
    init_keys(name="a.example/log")
    with pytest.raises(ConfigError, match=r"is named 'a.example/log', not 'b.example/log'"):
        init_keys(name="b.example/log")


@pytest.mark.parametrize("name", ["", "has space", "a+b"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(ConfigError, match="is not valid"):
        init_keys(name=name)


def test_signing_key_text_round_trip_and_tamper() -> None:
    key = SigningKey("x.example/log", bytes(range(32)))
    assert SigningKey.from_text(key.to_text()) == key
    tampered = key.to_text().replace("+AQABAg", "+AQABAw")
    with pytest.raises(ConfigError, match=r"key id does not match|not an Ed25519"):
        SigningKey.from_text(tampered)
    with pytest.raises(ConfigError, match="is not a signing key"):
        SigningKey.from_text("hello")


def test_public_key_formats() -> None:
    key = SigningKey("x.example/log", bytes(range(32))).public
    assert parse_public_key(key.vkey()) == key
    assert parse_public_key(key.pem()).raw == key.raw
    with pytest.raises(ConfigError, match="neither a vkey"):
        parse_public_key("garbage")
    bad = key.vkey().split("+", 2)
    with pytest.raises(ConfigError, match="does not match the key"):
        parse_public_key(f"{bad[0]}+00000000+{bad[2]}")


def test_concurrent_init_creates_one_key(_isolated_home: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _i: init_keys(), range(8)))
    assert sum(r.signing_created for r in results) == 1
    assert sum(r.masking_created for r in results) == 1
    assert len({r.key_name for r in results}) == 1
    assert len({r.current_masking_key for r in results}) == 1
    assert load_signing_key().name == results[0].key_name
    assert sorted(p.name for p in _isolated_home.iterdir()) == [
        "audit_signing.key",
        "audit_signing.pub",
        "masking_keys.json",
    ]


def test_a_signing_key_loaded_again_is_checked_and_read_again(_isolated_home: Path) -> None:
    """The parsed key is reused only for the same file content: a rewritten, removed or
    opened-up key file is seen on the next load, as without the reuse."""
    init_keys(name="example.com/one")
    path = _isolated_home / "audit_signing.key"
    first = load_signing_key()
    assert load_signing_key() is first  # parsed once
    other = SigningKey("example.com/two", bytes(range(32)))
    path.write_text(other.to_text(), encoding="utf-8")  # rewritten in place, same mode
    assert load_signing_key() == other
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="group or other users can access it"):
        load_signing_key()
    path.unlink()
    with pytest.raises(KeyMissing, match="no audit signing key"):
        load_signing_key()
