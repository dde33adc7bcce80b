"""The pack's human-readable report: HTML from a Jinja2 template, PDF from the same HTML."""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import warnings
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from stagewall.errors import BackendError
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
        import weasyprint  # noqa: F401


class PdfJob:
    """Render the PDF in another process while the caller builds the rest of the pack."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        self._warm = self._pool.submit(_warm_up)
        self._future: concurrent.futures.Future[bytes] | None = None

    def render(self, html: str) -> None:
        self._future = self._pool.submit(render_pdf, html)

    def result(self) -> bytes:
        if self._future is None:
            raise BackendError("the PDF was never rendered")
        try:
            return self._future.result()
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise BackendError(f"the PDF renderer process failed: {exc}") from exc

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


__all__ = ["PdfJob", "render_html", "render_pdf", "report_context"]
