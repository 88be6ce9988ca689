"""The installed framesift's version, read once from the package metadata.

``framesift.__version__``, the CLI's ``--version`` and the catalog's records of who wrote
what all use this one value.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]


def _installed_version() -> str:
    try:
        return metadata.version("framesift")
    except metadata.PackageNotFoundError:  # a source tree run without installing it
        return "0+unknown"


__version__: str = _installed_version()
