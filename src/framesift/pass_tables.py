"""A pass's tables as it recorded them: made polars DataFrames on first use, or written as
Parquet without polars.

A sampling pass records its kept frames and scenes as rows (dicts) and its per-frame
analysis in typed arrays (:class:`framesift.analysis.AnalysisColumns`); a fast scan or a
split video hands its analysis on as a polars DataFrame. :class:`PassTables` holds them as
they are. :class:`framesift.sample.SampleResult` makes its ``frames``, ``scenes`` and
``analysis`` DataFrames from them when first read, and
:func:`framesift.output.write_pass_table` writes their :meth:`PassTables.columns` with
:mod:`framesift.parquet` (start-up: ``framesift sample`` never imports polars for them).
Both give the same table: the DataFrame's schema is the polars schema of the table's
:data:`~framesift.schema.COLUMN_KINDS`, and ``tests/test_parquet.py`` reads the written
files back equal to the DataFrames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from framesift.analysis import AnalysisColumns
from framesift.parquet import Values
from framesift.schema import COLUMN_KINDS

if TYPE_CHECKING:
    import polars as pl

__all__ = ["PASS_TABLES", "PassTables"]

PASS_TABLES: tuple[str, ...] = ("frames", "scenes", "analysis")
"""The tables every pass has."""


@dataclass(frozen=True)
class PassTables:
    """A pass's kept rows (in the order they were decided), scene rows and analysis."""

    rows: Sequence[Mapping[str, Any]]
    scene_rows: Sequence[Mapping[str, Any]]
    analysis: AnalysisColumns | pl.DataFrame

    def frame(self, table: str) -> pl.DataFrame:
        """``table`` (one of :data:`PASS_TABLES`) as a polars DataFrame."""
        import polars as pl  # start-up: the tables of a pass, when read (framesift.later)

        from framesift.schema import polars_schema

        if table == "analysis":
            analysis = self.analysis
            return analysis.to_frame() if isinstance(analysis, AnalysisColumns) else analysis
        schema = polars_schema(COLUMN_KINDS[table])
        if table == "frames":
            return pl.DataFrame(self.rows, schema=schema, orient="row").sort("frame_index")
        return pl.DataFrame(self.scene_rows, schema=schema, orient="row")

    def columns(self, table: str) -> dict[str, Values]:
        """``table``'s columns, in :data:`COLUMN_KINDS`' order (None: null), as
        :meth:`frame` orders its rows."""
        names = COLUMN_KINDS[table]
        if table == "analysis":
            analysis = self.analysis
            if not isinstance(analysis, AnalysisColumns):
                return {name: analysis[name].to_list() for name in names}
            arrays = analysis.arrays()
            columns: dict[str, Values] = dict(arrays)
            contrast = arrays["contrast"]
            unmeasured = np.isnan(contrast)
            if unmeasured.any():  # null, as in to_frame
                columns["contrast"] = [
                    None if missing else float(value)
                    for missing, value in zip(unmeasured.tolist(), contrast.tolist(), strict=True)
                ]
            return {name: columns[name] for name in names}
        if table == "frames":
            rows = sorted(self.rows, key=lambda row: int(row["frame_index"]))
        else:
            rows = list(self.scene_rows)
        return {name: [row.get(name) for row in rows] for name in names}
