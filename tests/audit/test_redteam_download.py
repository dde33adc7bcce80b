"""Red team: `audit export --server` writes only inside --out.

The downloaded archive is the server's word. A member named
``stagewall-audit/../../x`` passed the prefix check and was written outside the
bundle directory (anywhere the auditor can write); absolute names likewise.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from stagewall.cli.audit import _download_bundle
from stagewall.errors import UsageError


class _FakeServer:
    server = "https://stagewall.example"

    def __init__(self, members: dict[str, bytes]) -> None:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        self.data = buf.getvalue()

    def download(self, path: str) -> bytes:
        assert path == "/api/v1/audit/bundle"
        return self.data


@pytest.mark.parametrize(
    "evil",
    [
        "stagewall-audit/../escaped.txt",
        "stagewall-audit/checkpoints/../../escaped.txt",
        "stagewall-audit/{abs}/escaped.txt",  # an absolute path after the prefix
    ],
)
def test_a_member_outside_the_bundle_is_refused(tmp_path: Path, evil: str) -> None:
    evil = evil.replace("{abs}", str(tmp_path))
    out = tmp_path / "sub" / "bundle"
    server = _FakeServer({"stagewall-audit/events.jsonl": b"", evil: b"owned"})
    with pytest.raises(UsageError, match="unexpected entries"):
        _download_bundle(server, out)  # type: ignore[arg-type]
    assert not (tmp_path / "sub" / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert not out.exists()


def test_an_honest_archive_is_written(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    server = _FakeServer(
        {"stagewall-audit/events.jsonl": b"", "stagewall-audit/checkpoints/c.txt": b"x"}
    )
    _download_bundle(server, out)  # type: ignore[arg-type]
    assert (out / "checkpoints" / "c.txt").read_bytes() == b"x"
