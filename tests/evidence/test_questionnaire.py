"""Questionnaire answers from state: matching rules, built-in sets, customer XLSX/CSV."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import insert

from stagewall.access._tables import access_grants
from stagewall.errors import EvidenceError
from stagewall.evidence import evaluate
from stagewall.evidence.questionnaire import (
    QUESTION_SETS,
    UNMATCHED,
    answer,
    answer_questionnaire,
    match_question,
)
from tests.evidence.history import History


@pytest.mark.parametrize("name", sorted(QUESTION_SETS))
def test_every_builtin_question_matches_its_own_topic(name: str) -> None:
    for q in QUESTION_SETS[name]:
        assert match_question(q.text).topic == q.topic, q.text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        (
            "Do contractors or vendors have any access to production databases?",
            "third_party_production_access",
        ),
        ("Is 2FA enforced for admins?", "mfa"),
        ("Are user entitlements recertified periodically?", "access_reviews"),
        ("Is all data in transit protected with TLS 1.2 or higher?", "encryption_in_transit"),
        ("Is customer data pseudonymised before it reaches the test environments?", "test_data"),
        (
            "Describe how code changes are approved before release.",
            "deployment_separation_of_duties",
        ),
        ("Do subprocessors sign a data processing agreement?", "vendor_contracts"),
    ],
)
def test_customer_phrasings_match(text: str, topic: str) -> None:
    assert match_question(text).topic == topic


@pytest.mark.parametrize(
    "text", ["What is your company's annual revenue?", "Describe your physical security."]
)
def test_unrelated_questions_go_to_a_human(text: str) -> None:
    m = match_question(text)
    assert m.topic is None and m.reason == "no rule matched"


def test_answers_carry_figures_provenance_and_confidence(history: History) -> None:
    ev = evaluate(history.inputs())
    a = answer("third_party_production_access", ev)
    assert a.value.value == "No"
    assert a.text.startswith("No. As of ")
    assert "0 of 2 external identities hold or can request any production permission" in a.text
    assert "1 break-glass use(s)" in a.text and "1 followed up within 24 hours" in a.text
    assert a.checks == ("access.external_production", "access.break_glass_followup")
    assert all(h.startswith("sha256:") for h in a.evidence)
    assert a.confidence.value == "measured"
    # a check that cannot be measured lowers the confidence, and says so
    sep = answer("environment_separation", ev)
    assert sep.value.value == "Partial" and sep.confidence.value == "document"


def test_builtin_caiq_set_written_and_reread(history: History, tmp_path: Path) -> None:
    out = tmp_path / "answers.xlsx"
    filled = answer_questionnaire("caiq-v4", evaluate(history.inputs()), out)
    assert len(filled) == 10
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("ID", "Question", "Answer", "Explanation")
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["IAM-14.1"][2] == "Yes"
    assert by_id["IAM-05.1"][2] == "No" and by_id["IAM-05.1"][8] == "IAM-05.1 IVS-05.1"


def _customer_xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Security"
    ws["A1"] = "ACME Corp vendor security questionnaire"
    ws["A1"].font = Font(size=16, bold=True)
    ws.append([])
    ws.append(["#", "Question", "Response", "Vendor comments"])
    for cell in ws[3]:
        cell.fill = PatternFill("solid", fgColor="FFCC00")
    ws.append([1, "Do third-party developers have access to production systems?", None, None])
    ws.append([2, "Is MFA required for administrative access?", None, None])
    ws.append([3, "What is your annual revenue?", None, None])
    ws.append([4, None, None, None])
    ws.append(
        [5, "Is production data masked before use in test or staging environments?", None, None]
    )
    ws.column_dimensions["B"].width = 70
    wb.create_sheet("Notes")["A1"] = "untouched"
    wb.save(path)


def test_customer_xlsx_filled_keeping_its_layout(history: History, tmp_path: Path) -> None:
    src, out = tmp_path / "acme.xlsx", tmp_path / "acme-answered.xlsx"
    _customer_xlsx(src)
    filled = answer_questionnaire(str(src), evaluate(history.inputs()), out)
    assert [f.topic for f in filled] == [
        "third_party_production_access",
        "mfa",
        None,
        "test_data",
    ]
    wb = load_workbook(out)
    ws = wb["Security"]
    assert ws["A1"].value == "ACME Corp vendor security questionnaire" and ws["A1"].font.bold
    assert ws["C3"].fill.fgColor.rgb.endswith("FFCC00")
    assert ws.column_dimensions["B"].width == 70
    assert ws["C4"].value == "No" and ws["D4"].value.startswith("No. As of ")
    assert "confidence: measured" in ws["D4"].value and "sha256:" in ws["D4"].value
    assert ws["C5"].value == "Yes"
    assert ws["C6"].value is None and ws["D6"].value.startswith(UNMATCHED)
    assert ws["C8"].value == "Yes"
    assert wb["Notes"]["A1"].value == "untouched"


def test_customer_csv_without_answer_columns(history: History, tmp_path: Path) -> None:
    src, out = tmp_path / "q.csv", tmp_path / "q-answered.csv"
    src.write_text("ID,Question text\nQ1,Are access reviews performed at least quarterly?\n")
    answer_questionnaire(str(src), evaluate(history.inputs()), out)
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["ID", "Question text", "Answer", "Explanation"]
    assert rows[1][2] == "Yes" and "access review" in rows[1][3]


def test_bad_questionnaires_are_refused(history: History, tmp_path: Path) -> None:
    ev = evaluate(history.inputs())
    with pytest.raises(EvidenceError, match=r"no built-in question set|does not exist"):
        answer_questionnaire("nope", ev, tmp_path / "o.xlsx")
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(EvidenceError, match="no header cell names a question column"):
        answer_questionnaire(str(f), ev, tmp_path / "o.csv")
    g = tmp_path / "x.xlsx"
    g.write_bytes(b"not a zip")
    with pytest.raises(EvidenceError, match="cannot be read as XLSX"):
        answer_questionnaire(str(g), ev, tmp_path / "o.xlsx")


def test_answer_flips_when_an_external_gets_production_access(
    history: History, tmp_path: Path
) -> None:
    """Through the product this cannot happen; on an edited copy of the store the answer flips."""
    assert answer("third_party_production_access", evaluate(history.inputs())).value.value == "No"
    src = Path(history.db.removeprefix("sqlite:///"))
    history.ctx.store.dispose()
    copy = tmp_path / "copy.db"
    shutil.copy(src, copy)
    from stagewall.audit import AuditLog
    from stagewall.store import open_store

    store = open_store(f"sqlite:///{copy}")
    now = history.clock.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with store.transaction() as conn:
        conn.execute(
            insert(access_grants).values(
                id="gedit",
                principal="erin",
                role="prod-read",
                environment="production",
                production=True,
                source="request",
                request_id=None,
                reason="edited",
                starts_at=now,
                ends_at="2099-01-01T00:00:00.000000Z",
                status="active",
                created_at=now,
            )
        )
    history.ctx.store = store
    inputs = history.inputs()
    inputs.audit = AuditLog(store)
    a = answer("third_party_production_access", evaluate(inputs))
    assert a.value.value == "Yes"
    assert "1 of 2 external identities" in a.text and "erin" in a.text
    store.dispose()
