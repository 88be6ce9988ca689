"""The options every command may take that need none of framesift's settings
(:mod:`framesift.spec`): the parser's one-line errors, numbers in a range, fsspec storage
options and ``--json`` / ``--csv``. Start-up: ``framesift probe`` parses with these alone;
:mod:`framesift.cli.arguments` re-exports them beside the sampling options.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from framesift.cli.output import refuse_option
from framesift.errors import SettingsError

__all__ = [
    "CommandParser",
    "add_format_arguments",
    "add_storage_option",
    "number_in",
    "parse_storage_options",
    "storage_options_from_args",
]


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as every other failure of the command:
    ``framesift sample: argument --every: ... (framesift sample --help)``, exit status 2."""

    def error(self, message: str) -> NoReturn:
        refuse_option(self.prog, message)
        raise SystemExit(2)


def number_in(
    kind: Callable[[str], float],
    low: float | None = None,
    high: float | None = None,
    *,
    off: float | None = None,
) -> Callable[[str], Any]:
    """An option type: a number from ``low`` to ``high`` (either end open when None), or
    ``off`` (the value that turns the option off). Its refusal says what is allowed, and
    argparse puts the option's name in front."""
    allowed = (
        f"from {low:g} to {high:g}" if low is not None and high is not None
        else f"{low:g} or more" if low is not None
        else f"{high:g} or less" if high is not None
        else "a number"
    )  # fmt: skip
    if off is not None:
        allowed += f", or {off:g} to turn it off"
    name = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}: {allowed}") from None
        if value == off:
            return value
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {allowed}")
        return value

    return parse


def add_storage_option(parser: argparse.ArgumentParser) -> None:
    """``--storage-option KEY=VALUE`` (repeatable), read by :func:`storage_options_from_args`."""
    parser.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        default=None,
        help="fsspec option for the catalog and sources (repeatable; e.g. endpoint_url=..., "
        "anon=true); AWS settings also come from the standard environment and config files",
    )


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


def storage_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return parse_storage_options(args.storage_option)


def add_format_arguments(
    parser: argparse.ArgumentParser, *, json_help: str, csv_help: str | None = None
) -> None:
    """``--json`` (and ``--csv``, when the command can write it): the result as data; the
    help texts say what is printed."""
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help=json_help)
    if csv_help is not None:
        out.add_argument("--csv", action="store_true", help=csv_help)
