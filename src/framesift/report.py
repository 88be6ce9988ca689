"""Reports: a notebook run with parameters and kept as one self-contained HTML file.

:func:`write_report` runs a notebook (one of the project's, by name, or any ``.ipynb``)
in a fresh Jupyter kernel with papermill, then exports it with nbconvert as a page that
reads like a report:

- the code is hidden (``show_code=True`` keeps it), and so are the prompts;
- every picture travels inside the file (thumbnails and plots as data URIs);
- widgets become static pictures: a live widget is drawn by JavaScript from a CDN that an
  exported page cannot count on, so where an output also carries a picture of the widget's
  state (framesift's widgets do: their ``text/html`` snapshot), the picture is kept and
  the widget view dropped;
- a notebook that stops with an error raises :class:`~framesift.errors.ReportError`
  naming the cell and the error, in one line.

``framesift report`` is this function on the command line; ``scripts/report.sh`` calls it.
Needs the ``notebook`` extra (papermill, nbconvert, a Python kernel).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec

from framesift.errors import ReportError, SettingsError, StorageError
from framesift.redact import redact_url

__all__ = ["NOTEBOOK_FOLDER", "Report", "find_notebook", "notebook_names", "write_report"]

logger = logging.getLogger(__name__)

NOTEBOOK_FOLDER = Path(__file__).resolve().parents[2] / "notebooks"
"""The project's notebooks (a source checkout), found by name: ``catalog_report`` ..."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass(frozen=True)
class Report:
    """A report written: where, from which notebook, its size and how long it took."""

    url: str  # shown without credentials
    notebook: str
    size_bytes: int
    seconds: float
    static_widgets: int  # widget outputs kept as their static picture

    def __str__(self) -> str:
        return (
            f"{self.url}: {self.size_bytes / 1e6:.1f} MB from {self.notebook} in "
            f"{self.seconds:.1f} s ({self.static_widgets} widgets as pictures)"
        )


def notebook_names() -> list[str]:
    """The project's notebooks that :func:`find_notebook` knows by name."""
    return sorted(p.stem for p in NOTEBOOK_FOLDER.glob("*.ipynb"))


def find_notebook(name: str) -> Path:
    """A notebook by name (``catalog_report``) or path (``my/notes.ipynb``)."""
    path = Path(name)
    if path.suffix == ".ipynb" or path.parent != Path("."):
        if path.is_file():
            return path.resolve()
        raise SettingsError(f"notebook {name}: no such file")
    found = NOTEBOOK_FOLDER / f"{name}.ipynb"
    if found.is_file():
        return found
    known = ", ".join(notebook_names()) or f"none in {NOTEBOOK_FOLDER}"
    raise SettingsError(f"no notebook named {name!r}: known {known}, or give a path to an .ipynb")


def _from_here(value: Any) -> Any:
    """A parameter naming a local file or folder that exists relative to the current
    directory, made absolute: the notebook runs in its own folder, where a relative path
    would name something else (``--catalog data/catalog`` from the project's root)."""
    local = isinstance(value, str) and "://" not in value and not os.path.isabs(value)
    return os.path.abspath(value) if local and os.path.exists(value) else value


def write_report(
    notebook: str,
    url: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    show_code: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    cell_timeout_s: float | None = None,
) -> Report:
    """Run ``notebook`` with ``parameters`` and write it as one HTML file at ``url`` (a
    path or fsspec URL, opened with ``storage_options``). Code hidden unless
    ``show_code``. Raises ReportError when a cell fails, SettingsError for an unknown
    notebook, StorageError when the file cannot be written."""
    papermill, nbformat, exporter_class = _report_tools()
    path = find_notebook(notebook)
    parameters = {name: _from_here(value) for name, value in (parameters or {}).items()}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="framesift-report-") as folder:
        executed = Path(folder) / path.name
        try:
            papermill.execute_notebook(
                str(path),
                str(executed),
                parameters=parameters,
                cwd=str(path.parent),
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=cell_timeout_s,
            )
        except papermill.PapermillExecutionError as exc:
            raise ReportError(
                f"{path.name}: cell {exc.exec_count} stopped the report: "
                f"{exc.ename}: {_last_line(exc.evalue)}"
            ) from None
        node = nbformat.read(str(executed), as_version=4)
    static = static_widgets(node)
    exporter = exporter_class(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
    )
    page, _ = exporter.from_notebook_node(node)
    data = page.encode("utf-8")
    shown = redact_url(url)
    try:
        with fsspec.open(url, "wb", **dict(storage_options or {})) as out:
            out.write(data)
    except OSError as exc:
        raise StorageError(f"cannot write the report to {shown}: {exc}") from None
    report = Report(shown, path.name, len(data), time.perf_counter() - started, static)
    logger.info("report: %s", report)
    return report


def static_widgets(notebook: Any) -> int:
    """Keep each widget output's static picture and drop its live view (an exported page
    cannot draw it); forget the notebook's widget state. Returns how many were replaced.
    Outputs with a widget view and no picture are left as they are."""
    replaced = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and any(k != WIDGET_VIEW and k != "text/plain" for k in data):
                del data[WIDGET_VIEW]
                replaced += 1
    notebook.metadata.pop("widgets", None)
    return replaced


def _last_line(text: str) -> str:
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _report_tools() -> tuple[Any, Any, Any]:
    """papermill, nbformat and nbconvert's HTML exporter, or how to install them."""
    try:
        import nbformat
        import papermill  # type: ignore[import-untyped]
        from nbconvert import HTMLExporter
    except ImportError:
        raise SettingsError(
            "reports need papermill and nbconvert: pip install 'framesift[notebook]'"
        ) from None
    return papermill, nbformat, HTMLExporter
