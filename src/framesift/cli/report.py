"""``framesift report``: run a notebook on a catalog and keep it as one HTML file.

Parses the options, calls :func:`framesift.report.write_report` and prints where the
report went. ``-p NAME VALUE`` sets a notebook parameter (values that parse as JSON are
taken as such: ``-p thumbs_per_video 12``, ``-p query null``); ``--catalog`` sets the
``catalog`` parameter and ``--storage-option`` its ``storage_options``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from framesift.cli.arguments import add_storage_option, storage_options_from_args
from framesift.cli.command import EXIT_OK, command
from framesift.cli.output import echo

__all__ = ["register", "report_parameters", "run_report"]

DEFAULT_NOTEBOOK = "catalog_report"


def report_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The notebook's parameters the options ask for."""
    parameters: dict[str, Any] = {}
    if args.catalog is not None:
        parameters["catalog"] = args.catalog
    options = storage_options_from_args(args)
    if options:
        parameters["storage_options"] = options
    for name, raw in args.parameter or ():
        try:
            parameters[name] = json.loads(raw)
        except ValueError:
            parameters[name] = raw
    return parameters


@command("report")
def run_report(args: argparse.Namespace) -> int:
    from framesift.report import write_report  # start-up: fsspec loads for this command only

    report = write_report(
        args.notebook,
        args.output,
        report_parameters(args),
        show_code=args.show_code,
    )
    echo(f"report: {report}")
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``report`` to the command's subparsers."""
    p = subparsers.add_parser(
        "report", help="run a notebook on a catalog and write it as one self-contained HTML file"
    )
    p.add_argument(
        "--catalog",
        default=None,
        metavar="URL",
        help="the catalog to report on (the notebook's catalog parameter)",
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="HTML", help="where to write the report"
    )
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a notebook parameter (repeatable); JSON values are taken as such",
    )
    p.add_argument(
        "--notebook",
        default=DEFAULT_NOTEBOOK,
        metavar="NAME",
        help=f"a notebook of the project by name, or a path to an .ipynb (default "
        f"{DEFAULT_NOTEBOOK}; also sample_video, explore_collection)",
    )
    p.add_argument("--show-code", action="store_true", help="keep the code cells in the report")
    add_storage_option(p)
    p.set_defaults(func=run_report)
