"""The pack's human-readable report: HTML from a Jinja2 template, PDF from the same HTML."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

import stagewall
from stagewall.errors import BackendError, StagewallError
from stagewall.evidence._model import Evaluation
from stagewall.evidence._registry import registered_checks
from stagewall.evidence.controlmap import ControlMap, requirement_status


def report_context(
    evaluation: Evaluation,
    cmap: ControlMap,
    *,
    organisation: str,
    log: Mapping[str, Any],
    window_events: str,
    populations: list[dict[str, Any]],
    diagram: str,
    drifts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    checks = registered_checks()
    frameworks = []
    for fw in cmap.frameworks:
        reqs = []
        for req in fw.requirements:
            results = [evaluation.results[c] for c in req.checks]
            reqs.append(
                {
                    "id": req.id,
                    "title": req.title,
                    "description": req.description,
                    "status": requirement_status(results).value,
                    "checks": [{"check": r.check, "status": r.status.value} for r in results],
                }
            )
        frameworks.append({"title": fw.title, "requirements": reqs})
    rows = []
    for name in sorted(evaluation.results):
        r = evaluation.results[name]
        data = r.to_json()
        data.update(
            title=checks[name].title,
            proves=checks[name].proves,
            cannot_prove=checks[name].cannot_prove,
            hash=r.evidence_hash(),
        )
        rows.append(data)
    ev = evaluation.to_json()
    return {
        "organisation": organisation or "(organisation not named in stagewall.yaml)",
        "window": ev["window"],
        "as_of": ev["as_of"],
        "counts": ev["counts"],
        "log": log,
        "window_events": window_events,
        "frameworks": frameworks,
        "checks": rows,
        "populations": populations,
        "diagram": diagram,
        "drifts": drifts or [],
    }


def render_html(context: Mapping[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("stagewall.evidence", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template("report.html.j2").render(**context)


def render_pdf(html: str) -> bytes:
    """The same HTML as PDF (WeasyPrint; it needs Pango from the system)."""
    for name in ("weasyprint", "fontTools", "fontTools.subset"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # WeasyPrint announces that a future version will need HarfBuzz-Subset.
            warnings.simplefilter("ignore", DeprecationWarning)
            from weasyprint import HTML
    except OSError as exc:  # the system libraries (Pango) are missing
        raise BackendError(
            f"WeasyPrint cannot load its system libraries: {exc}",
            hint="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)",
        ) from exc
    # Whole fonts are embedded: subsetting them costs seconds for a few hundred KB saved.
    pdf: bytes | None = HTML(string=html).write_pdf(full_fonts=True)
    if not pdf:
        raise BackendError("WeasyPrint produced no PDF")
    return pdf


def _warm_up() -> None:
    """Import WeasyPrint in the worker while the parent evaluates (it takes seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with contextlib.suppress(OSError):  # render_pdf reports missing system libraries
            import weasyprint  # noqa: F401


def pdf_worker() -> None:
    """The renderer process: import WeasyPrint, then render one ``HTML<TAB>PDF`` path pair
    read from stdin. Exit 3 with the message on stderr when rendering fails."""
    _warm_up()
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        return
    src, dst = line.split("\t")
    try:
        pdf = render_pdf(Path(src).read_text("utf-8"))
    except StagewallError as exc:
        sys.stderr.write(exc.message)
        sys.exit(3)
    Path(dst).write_bytes(pdf)


_WORKER = "from stagewall.evidence._report import pdf_worker; pdf_worker()"
PDF_TIMEOUT_S = 600


class PdfJob:
    """Render the PDF in another process while the caller builds the rest of the pack.

    A plain subprocess of this interpreter (not multiprocessing, whose spawn start
    method re-imports the caller's ``__main__``: an unguarded script would run twice).
    It imports WeasyPrint at once and renders when :meth:`render` hands it the HTML,
    through files in a private (0700) temporary directory.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="stagewall-pdf-")
        self._html = Path(self._dir.name) / "report.html"
        self._pdf = Path(self._dir.name) / "report.pdf"
        env = dict(os.environ)
        root = str(Path(stagewall.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self._sent = False
        self._done = False

    def render(self, html: str) -> None:
        self._html.write_text(html, "utf-8")
        stdin = self._proc.stdin
        if stdin is None:
            raise BackendError("the PDF renderer has no input")
        try:
            stdin.write(f"{self._html}\t{self._pdf}\n")
            stdin.flush()
        except BrokenPipeError:
            pass  # it died; result() reports why
        self._sent = True

    def result(self) -> bytes:
        if not self._sent:
            raise BackendError("the PDF was never rendered")
        try:
            _, err = self._proc.communicate(timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BackendError(f"the PDF renderer took more than {PDF_TIMEOUT_S} s") from None
        self._done = True
        if self._proc.returncode != 0 or not self._pdf.is_file():
            detail = (err or "").strip()[-600:] or f"exit status {self._proc.returncode}"
            raise BackendError(f"the PDF renderer failed: {detail}")
        return self._pdf.read_bytes()

    def close(self) -> None:
        if not self._done:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.communicate()
        self._dir.cleanup()


__all__ = ["PdfJob", "render_html", "render_pdf", "report_context"]
