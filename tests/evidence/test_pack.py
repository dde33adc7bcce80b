"""The pack: built, verified offline, then tampered with and refused."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import insert

from stagewall.access._tables import access_grants
from stagewall.errors import KeyMissing, PackInvalid, SignatureInvalid
from stagewall.evidence import CheckStatus, evaluate
from stagewall.evidence.pack import build_pack, sign_manifest
from stagewall.evidence.verify import verify_pack
from stagewall.keys import SigningKey, load_public_key, load_signing_key
from tests.evidence.history import History


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name in change:
                new = change[name]
                if new is None:
                    continue
                data = new
            zout.writestr(name, data)


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture
def pack(history: History, tmp_path: Path) -> Path:
    out = tmp_path / "pack.zip"
    build_pack(history.inputs(), out, signing_key=load_signing_key())
    return out


def test_pack_verifies_offline(pack: Path, history: History) -> None:
    files = _files(pack)
    assert {
        "manifest.json",
        "manifest.sig",
        "checkpoint.txt",
        "events.jsonl",
        "proofs.json",
        "checks.json",
        "controls.json",
        "report.html",
        "report.pdf",
        "estate.svg",
        "oscal/assessment-results.json",
        "ciso-assistant/requirement-assessments.json",
        "populations/production_grants.csv",
        "populations/production_promotions.csv",
        "populations/masking_runs.csv",
        "populations/review_decisions.csv",
    } <= set(files)
    assert files["report.pdf"].startswith(b"%PDF")
    assert b"access.external_production" in files["report.html"]
    assert files["estate.svg"].startswith(b"<svg")
    # the store is not needed: remove it before verifying
    history.ctx.store.dispose()
    Path(str(history.db).removeprefix("sqlite:///")).unlink()
    report = verify_pack(pack, public_key=load_public_key())
    assert report.warnings == ()
    assert report.rows_bound == 2 + 1 + 1 + 1  # 2 production grants, 1 promotion, 1 run, 1 decision
    assert report.events == report.tree_size  # the whole test log lies in the window
    assert report.counts["FAIL"] == 0
    grants = files["populations/production_grants.csv"].decode().splitlines()
    assert grants[0].startswith("grant,principal,role")
    assert len(grants) == 3


def test_unpinned_key_is_refused(pack: Path) -> None:
    # the pack's own public.key proves nothing (tests/evidence/test_redteam_pack.py)
    with pytest.raises(KeyMissing, match="needs a pinned public key"):
        verify_pack(pack)


def test_one_byte_in_a_csv_is_refused(pack: Path, tmp_path: Path) -> None:
    files = _files(pack)
    csv = bytearray(files["populations/production_grants.csv"])
    csv[-3] ^= 0x01
    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, {"populations/production_grants.csv": bytes(csv)})
    with pytest.raises(PackInvalid, match=r"production_grants.csv was altered"):
        verify_pack(bad, public_key=load_public_key())


def _drop_event(files: dict[str, bytes], n: int) -> dict[str, bytes]:
    lines = files["events.jsonl"].split(b"\n")
    index = json.loads(files["index.json"])
    del lines[n]
    del index["events"][n]
    return {"events.jsonl": b"\n".join(lines), "index.json": json.dumps(index).encode()}


def test_one_event_removed_is_refused(pack: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, _drop_event(_files(pack), 5))
    with pytest.raises(PackInvalid, match=r"events.jsonl was altered"):
        verify_pack(bad, public_key=load_public_key())


def test_re_signed_with_another_key_is_refused(pack: Path, tmp_path: Path) -> None:
    """A forger who removes an event and re-signs the manifest with their own key."""
    files = _files(pack)
    files.update(_drop_event(files, 5))
    manifest = json.loads(files["manifest.json"])
    import hashlib

    for name in ("events.jsonl", "index.json"):
        manifest["files"][name] = hashlib.sha256(files[name]).hexdigest()
    raw = json.dumps(manifest).encode()
    forger = SigningKey("evidence.test/audit", os.urandom(32))
    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, {**files, "manifest.json": raw, "manifest.sig": sign_manifest(raw, forger)})
    with pytest.raises(SignatureInvalid):
        verify_pack(bad, public_key=load_public_key())
    # even trusting the pack's own key, the checkpoint is still the real one: the window gap shows
    _rewrite(
        pack,
        bad2 := tmp_path / "bad2.zip",
        {
            **files,
            "manifest.json": raw,
            "manifest.sig": sign_manifest(raw, load_signing_key()),
        },
    )
    with pytest.raises(PackInvalid, match="event 5 is missing"):
        verify_pack(bad2, public_key=load_public_key())


def test_extra_file_is_refused(pack: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    shutil.copy(pack, bad)
    with zipfile.ZipFile(bad, "a") as z:
        z.writestr("populations/extra.csv", b"x\n")
    with pytest.raises(PackInvalid, match=r"not listed: populations/extra.csv"):
        verify_pack(bad, public_key=load_public_key())


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "x.zip"
    f.write_bytes(b"hello")
    with pytest.raises(PackInvalid, match="not a readable zip"):
        verify_pack(f)


def test_external_with_production_access_in_an_edited_store_copy(
    history: History, tmp_path: Path
) -> None:
    """Impossible through the product, so done by editing a copy of the store: the check
    fails, and the pack built from that store fails verification on the log binding."""
    src = Path(history.db.removeprefix("sqlite:///"))
    history.ctx.store.dispose()
    copy = tmp_path / "copy" / "store.db"
    copy.parent.mkdir()
    shutil.copy(src, copy)
    from stagewall.store import open_store

    store = open_store(f"sqlite:///{copy}")
    now = history.clock.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.transaction() as conn:
        conn.execute(
            insert(access_grants).values(
                id="gforged",
                principal="dana",
                role="prod-read",
                environment="production",
                production=True,
                source="request",
                request_id=None,
                reason="edited in",
                starts_at=now,
                ends_at="2099-01-01T00:00:00.000000Z",
                status="active",
                created_at=now,
            )
        )
    from stagewall.audit import AuditLog

    history.ctx.store = store
    inputs = history.inputs()
    inputs.audit = AuditLog(store)
    r = evaluate(inputs).get("access.external_production")
    assert r.status is CheckStatus.FAIL
    assert r.items[0]["principal"] == "dana"
    out = tmp_path / "forged.zip"
    inputs = history.inputs()
    build_pack(inputs, out, signing_key=load_signing_key(), pdf=False)
    with pytest.raises(PackInvalid, match="grant gforged is not bound to any audit event"):
        verify_pack(out, public_key=load_public_key())
    store.dispose()


def test_pack_refuses_existing_output(history: History, tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    out.write_bytes(b"")
    from stagewall.errors import UsageError

    with pytest.raises(UsageError, match="exists"):
        build_pack(history.inputs(), out, signing_key=load_signing_key())


def test_oscal_assessment_results_validate_with_trestle(pack: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    doc = json.loads(_files(pack)["oscal/assessment-results.json"])
    ar = AssessmentResults.model_validate(doc["assessment-results"])
    result = ar.results[0]
    assert len(result.observations or []) == 18  # one observation per registered check
    ids = {f.target.target_id for f in result.findings or []}
    assert "iso27001-2022_a.8.31" in ids and "soc2-2017_cc8.1" in ids
    states = {f.target.target_id: f.target.status.state.value for f in result.findings or []}
    # A.8.31 rests on resource identity, which nothing pinned: not satisfied, honestly
    assert states["iso27001-2022_a.8.31"] == "not-satisfied"
    assert states["soc2-2017_cc6.2"] == "satisfied"


def test_ciso_assistant_export(pack: Path) -> None:
    doc = json.loads(_files(pack)["ciso-assistant/requirement-assessments.json"])
    by_ref = {(a["framework"], a["ref_id"]): a for a in doc["requirement_assessments"]}
    a = by_ref[("iso27001-2022", "A.6.6")]
    assert a["requirement"] == "urn:intuitem:risk:req_node:iso27001-2022:a.6.6"
    assert a["result"] == "compliant" and a["evidences"][0]["name"] == "vendors.agreements"
    assert by_ref[("iso27001-2022", "A.5.33")]["result"] == "not_assessed"
    assert len(by_ref) == 19 + 6 + 1 + 1 + 2


def test_malformed_but_signed_content_is_refused_without_traceback(
    pack: Path, tmp_path: Path
) -> None:
    import hashlib

    files = _files(pack)
    files["index.json"] = b"{not json"
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["index.json"] = hashlib.sha256(files["index.json"]).hexdigest()
    raw = json.dumps(manifest).encode()
    bad = tmp_path / "bad.zip"
    _rewrite(
        pack,
        bad,
        {**files, "manifest.json": raw, "manifest.sig": sign_manifest(raw, load_signing_key())},
    )
    with pytest.raises(PackInvalid, match="malformed pack content"):
        verify_pack(bad, public_key=load_public_key())
