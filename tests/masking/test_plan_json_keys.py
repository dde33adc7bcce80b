"""The auto plan never writes a source value into the plan file.

``json_mask``'s plan lists the JSON paths it saw in the samples (``paths`` and
``keep``). A document keyed by data rather than by field names
(``{"friends": {"Novak": "self"}}``, an e-mail as a key) put the row's own surname
or e-mail into the plan file (``$.friends.Novak``), which is reviewed and committed
where staging's developers read it. Such keys (a name, e-mail or phone the detector
finds, a name of the name lists, or a key only one sampled document holds) are no
longer written: their values fall under ``unknown_keys: scrub`` and the keys are
judged by json_mask itself. A column whose only paths are such keys stays masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.classify import classify_column
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import dump_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.types import ColumnKind
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_jsonenum import FIRST, LAST, N, _source


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def test_the_plan_file_holds_no_json_key_that_is_a_source_value(
    make: Callable[[], str],
) -> None:
    """Before: the plan held ``$.friends.Novak`` and the full names and e-mails used
    as keys. Now none of the source's names or e-mails is in the plan file, the
    field-name paths still are, and the run still verifies clean."""
    src, tgt = make(), make()
    _source(src)
    plan = build_plan(src).plan
    text = dump_plan(plan)
    leaked = [w for w in (*FIRST, *LAST) if w in text]
    leaked += [f"someone{i}@elsewhere-example.org" for i in range(1, N + 1)]
    leaked = [w for w in leaked if w in text]
    assert not leaked, leaked
    assert "$.theme" in text and "$.street" in text, text
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed


def test_documents_keyed_only_by_names_stay_masked() -> None:
    """Every sampled path's key is a surname: nothing is written, and the column is
    still json_mask (its keys judged, unknown keys scrubbed), never kept."""
    docs = [json.dumps({last: "self"}) for last in LAST]
    found = classify_column("customers", "prefs", ColumnKind.JSON, docs)
    assert found.transformer == "json_mask", found
    assert found.params["unknown_keys"] == "scrub"
    assert not any(last in json.dumps(found.params) + found.reason for last in LAST), found


def test_ordinary_field_names_stay_in_the_plan() -> None:
    """Keys that are field names, seen in several documents, are written as before,
    including a lone optional field seen in two documents."""
    docs = [
        json.dumps({"name": f"{f} {ln}", "kind": "a", "max": 3, "price": 2})
        for f, ln in zip(FIRST, LAST, strict=True)
    ]
    docs[0] = json.dumps({**json.loads(docs[0]), "middle_name": "Jo"})
    docs[1] = json.dumps({**json.loads(docs[1]), "middle_name": "Al"})
    found = classify_column("customers", "prefs", ColumnKind.JSON, docs)
    assert found.transformer == "json_mask", found
    written = {*found.params["paths"], *found.params["keep"]}
    assert {"$.name", "$.kind", "$.max", "$.price", "$.middle_name"} <= written, written


def test_a_sqlite_source_keyed_by_email_has_no_email_in_the_plan(tmp_path: Path) -> None:
    """An e-mail used as a key in most documents (so not rare) is still not written."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    rows = [(i, json.dumps({"ceo@acme-example.org": "boss", "theme": "x"})) for i in range(10)]
    _execute(
        url,
        [
            ("CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT)", []),
            ("INSERT INTO t VALUES (?, ?)", rows),
        ],
    )
    text = dump_plan(build_plan(url).plan)
    assert "acme-example" not in text, text
