"""Command-line shells over the catalog: ``framesift ingest`` and ``framesift catalog ...``.

They only parse, call the library, and present; framesift/cli.py wires them in::

    sub = subparsers.add_parser("ingest", help="sample videos into a catalog")
    add_ingest_arguments(sub); sub.set_defaults(func=run_ingest)
    sub = subparsers.add_parser("catalog", help="maintain a catalog")
    add_catalog_arguments(sub); sub.set_defaults(func=run_catalog)

Each ``run_*`` returns the process exit status: 0 success, 1 some videos failed (the rest
went in), 2 the catalog could not be used (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from framesift.errors import FramesiftError, SettingsError
from framesift.spec import DETECTOR_NAMES, ImageSpec, SamplingSpec

__all__ = [
    "DEFAULT_CATALOG",
    "add_catalog_arguments",
    "add_ingest_arguments",
    "parse_storage_options",
    "run_catalog",
    "run_ingest",
]

logger = logging.getLogger(__name__)

DEFAULT_CATALOG = "data/catalog"


def parse_storage_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs -> fsspec storage options. Values that parse as JSON are taken
    as such (``anon=true``, ``max_concurrency=4``); dots nest (``client_kwargs.region_name=
    eu-west-1``)."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise SettingsError(f"--storage-option {pair!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        target = options
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise SettingsError(f"--storage-option {name}: {parent} is not a group")
        target[leaf] = value
    return options


def _sampling_helpers() -> tuple[Any, Any]:
    """The shared sampling options of framesift/cli.py, or this module's stand-ins until
    they exist there (same names and meanings)."""
    try:
        from framesift.cli import (  # type: ignore[attr-defined,unused-ignore]
            add_sampling_arguments,
            spec_from_args,
        )
    except ImportError:
        return _add_sampling_arguments, _spec_from_args
    return add_sampling_arguments, spec_from_args


def _add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sampling")
    group.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        default=1.0,
        help="keep one frame every SECONDS (default 1)",
    )
    group.add_argument("--keyframes", action="store_true", help="keyframes only (fast preview)")
    group.add_argument(
        "--detector",
        choices=[*DETECTOR_NAMES, "none"],
        default="content",
        help="scene detector (default content)",
    )
    group.add_argument("--threshold", type=float, metavar="X", help="detector threshold")
    group.add_argument(
        "--dedup",
        type=int,
        metavar="BITS",
        help="drop near-duplicates within BITS of Hamming distance",
    )
    group.add_argument(
        "--thumb-size",
        type=int,
        metavar="PX",
        default=320,
        help="thumbnail max side in pixels (default 320)",
    )


def _spec_from_args(args: argparse.Namespace) -> SamplingSpec:
    return SamplingSpec(
        interval_s=None if args.keyframes else args.every,
        keyframes=args.keyframes,
        detector=None if args.detector == "none" else args.detector,
        threshold=args.threshold,
        dedup_bits=args.dedup,
        image=ImageSpec(max_side_px=args.thumb_size),
    )


def _add_storage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="fsspec option for the catalog and sources (repeatable; e.g. endpoint_url=..., "
        "anon=true); AWS settings also come from the standard environment and config files",
    )


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="video files, folders, globs or fsspec URLs"
    )
    parser.add_argument(
        "--catalog",
        default=DEFAULT_CATALOG,
        metavar="URL",
        help=f"catalog folder or URL (default {DEFAULT_CATALOG})",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="re-ingest videos already in the catalog with the same settings",
    )
    _add_storage_option(parser)
    _sampling_helpers()[0](parser)


def run_ingest(args: argparse.Namespace) -> int:
    from framesift.catalog.ingest import IngestOutcome, ingest
    from framesift.storage import redact_url

    def report(outcome: IngestOutcome, done: int, total: int) -> None:
        detail = outcome.video_id or ""
        if outcome.status == "failed":
            detail = f"{outcome.error_type}: {outcome.error_message}"
        sys.stdout.write(f"[{done}/{total}] {outcome.status:8} {outcome.source_url}  {detail}\n")
        sys.stdout.flush()

    try:
        spec = _sampling_helpers()[1](args)
        summary = ingest(
            args.sources,
            args.catalog,
            spec,
            force=args.force,
            storage_options=parse_storage_options(args.storage_option),
            progress=report,
        )
    except FramesiftError as exc:
        sys.stderr.write(f"framesift ingest: {type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.write(f"{summary}\ncatalog: {redact_url(str(args.catalog))}\n")
    return 1 if summary.counts["failed"] else 0


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    vac = sub.add_parser("vacuum", help="remove leftovers of interrupted or replaced writes")
    vac.add_argument("url", metavar="URL", help="catalog folder or URL")
    vac.add_argument(
        "--grace",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="keep unreferenced files younger than this (writes in flight; default 3600)",
    )
    vac.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    _add_storage_option(vac)
    comp = sub.add_parser("compact", help="merge per-video parts for fast full-table queries")
    comp.add_argument("url", metavar="URL", help="catalog folder or URL")
    _add_storage_option(comp)


def run_catalog(args: argparse.Namespace) -> int:
    from framesift.catalog.catalog import Catalog

    try:
        catalog = Catalog(args.url, parse_storage_options(args.storage_option), create=False)
        if args.catalog_command == "vacuum":
            counts = catalog.vacuum(grace_s=args.grace, dry_run=args.dry_run)
            verb = "would remove" if args.dry_run else "removed"
            listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
            sys.stdout.write(f"{catalog.url}: {verb} {listed}\n")
        else:
            sequence = catalog.compact()
            sys.stdout.write(
                f"{catalog.url}: "
                + (f"snapshot {sequence}\n" if sequence else "nothing to compact\n")
            )
    except FramesiftError as exc:
        sys.stderr.write(f"framesift catalog: {type(exc).__name__}: {exc}\n")
        return 2
    return 0
