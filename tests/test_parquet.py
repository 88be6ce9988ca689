"""The small Parquet writer (framesift.parquet): what it writes, polars, DuckDB and pyarrow
read back as the polars schema of the same kinds, values, nulls and all."""

from __future__ import annotations

import io
import math
import random

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from framesift.errors import SettingsError
from framesift.parquet import write_parquet
from framesift.pass_tables import PASS_TABLES, PassTables
from framesift.schema import COLUMN_KINDS, polars_schema

KINDS = {
    "flag": "bool",
    "small": "i32",
    "big": "i64",
    "hash": "u64",
    "single": "f32",
    "double": "f64",
    "text": "str",
    "words": "list[str]",
    "vector": "list[f32]",
}

ROWS = [
    (True, 0, 0, 0, 0.0, 0.0, "", ["scene_start", "interval"], [0.5, -1.25]),
    (False, -(2**31), -(2**63), 2**64 - 1, -1.5, math.inf, "é ü 字 🎬", [], []),
    (None, None, None, None, None, None, None, None, None),
    (True, 2**31 - 1, 2**63 - 1, 2**63, 3.25, -1e300, "a\x00b", ["x", None, "y"], [None, 2.0]),
    (None, 7, None, 12345678901234567890, math.nan, math.nan, None, [""], None),
]


def _written(kinds: dict[str, str], columns: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    write_parquet(buffer, kinds, columns)  # type: ignore[arg-type]
    return buffer.getvalue()


def _columns(rows: list[tuple[object, ...]]) -> dict[str, list[object]]:
    return {name: [row[i] for row in rows] for i, name in enumerate(KINDS)}


def _expected(columns: dict[str, list[object]], kinds: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=polars_schema(kinds))


def test_every_kind_with_nulls_reads_back_through_polars_duckdb_and_pyarrow(tmp_path):
    columns = _columns(ROWS)
    path = tmp_path / "t.parquet"
    path.write_bytes(_written(KINDS, columns))
    expected = _expected(columns, KINDS)

    read = pl.read_parquet(path)
    assert read.schema == expected.schema
    assert_frame_equal(read, expected)  # NaN equals NaN here, null stays null
    assert read["hash"].to_list() == [0, 2**64 - 1, None, 2**63, 12345678901234567890]
    assert read["words"].to_list() == [
        ["scene_start", "interval"],
        [],
        None,
        ["x", None, "y"],
        [""],
    ]

    table = pq.read_table(path)
    assert table.num_rows == len(ROWS)
    assert table.column("text").to_pylist() == columns["text"]
    assert table.column("words").to_pylist() == columns["words"]
    assert table.column("small").to_pylist() == columns["small"]

    found = duckdb.sql(f"select big, hash, words, text from '{path}'").fetchall()
    assert found == [(r[2], r[3], r[7], r[6]) for r in ROWS]


def test_an_empty_table_keeps_its_schema(tmp_path):
    path = tmp_path / "empty.parquet"
    path.write_bytes(_written(KINDS, {name: [] for name in KINDS}))
    read = pl.read_parquet(path)
    assert read.height == 0
    assert read.schema == pl.Schema(polars_schema(KINDS))
    assert duckdb.sql(f"select count(*) from '{path}'").fetchall()[0] == (0,)
    assert pq.read_table(path).num_rows == 0


def test_many_rows_with_random_nulls_and_numpy_columns(tmp_path):
    """Levels of many rows (one bit-packed run, the last group padded), numpy columns
    written whole, and a schema with more than fifteen elements (the metadata's long
    list headers)."""
    rng = random.Random(7)
    n = 20_003
    kinds = {**KINDS, **{f"extra_{i}": "i64" for i in range(12)}}
    columns: dict[str, object] = {
        "flag": [rng.choice([True, False, None]) for _ in range(n)],
        "small": np.arange(n, dtype=np.int32),
        "big": [rng.randrange(-(2**62), 2**62) if rng.random() < 0.9 else None for _ in range(n)],
        "hash": np.array([rng.getrandbits(64) for _ in range(n)], dtype=np.uint64),
        "single": np.linspace(-1, 1, n, dtype=np.float32),
        "double": [rng.random() if rng.random() < 0.5 else None for _ in range(n)],
        "text": [None if rng.random() < 0.3 else str(rng.random()) for _ in range(n)],
        "words": [
            None
            if rng.random() < 0.1
            else [rng.choice(["a", "bb", None]) for _ in range(rng.randrange(4))]
            for _ in range(n)
        ],
        "vector": [[rng.random() for _ in range(rng.randrange(3))] for _ in range(n)],
        **{f"extra_{i}": np.full(n, i, dtype=np.int64) for i in range(12)},
    }
    path = tmp_path / "many.parquet"
    path.write_bytes(_written(kinds, columns))
    expected = pl.DataFrame(
        {k: v if isinstance(v, list) else v.tolist() for k, v in columns.items()},  # type: ignore[union-attr]
        schema=polars_schema(kinds),
    )
    assert_frame_equal(pl.read_parquet(path), expected)
    total = duckdb.sql(f"select count(*), count(big), sum(len(words)) from '{path}'").fetchall()[0]
    assert total == (
        n,
        sum(v is not None for v in columns["big"]),
        expected["words"].list.len().sum(),
    )  # type: ignore[union-attr]
    assert pq.read_table(path).column("hash").to_pylist() == expected["hash"].to_list()


def test_mismatched_lengths_and_unknown_kinds_are_refused():
    with pytest.raises(SettingsError, match="different lengths"):
        _written({"a": "i64", "b": "i64"}, {"a": [1, 2], "b": [1]})
    with pytest.raises(SettingsError, match="no Parquet kind 'date'"):
        _written({"a": "date"}, {"a": [1]})


def test_pass_tables_written_equal_their_dataframes(tmp_path):
    """A pass's tables as recorded (rows out of frame order, analysis columns with a
    contrast not measured) write what their DataFrames hold."""
    from framesift.analysis import AnalysisColumns

    analysis = AnalysisColumns()
    analysis.add(0, 0.0, 0, True, 0.0, 2**64 - 1, 16.0, None)
    analysis.add(1, 0.04, 512, False, 31.5, 5, 100.25, 40.0)
    row = dict.fromkeys(COLUMN_KINDS["frames"])
    later = {**row, "frame_index": 9, "reasons": ["representative"], "phash": 2**63}
    first = {**row, "frame_index": 0, "reasons": ["scene_start"], "blank_frames_skipped": 0}
    scene = dict.fromkeys(COLUMN_KINDS["scenes"]) | {"scene_index": 0, "start_s": 0.0}
    tables = PassTables([later, first], [scene], analysis)
    for name in PASS_TABLES:
        buffer = io.BytesIO()
        write_parquet(buffer, COLUMN_KINDS[name], tables.columns(name))
        buffer.seek(0)
        assert_frame_equal(pl.read_parquet(buffer), tables.frame(name))
    assert tables.frame("frames")["frame_index"].to_list() == [0, 9]
    assert tables.frame("analysis")["contrast"].to_list() == [None, 40.0]


@pytest.mark.parametrize("fast", [False, True], ids=["streaming", "fast"])
def test_write_sample_writes_the_result_tables(cuts_video, tmp_path, fast):
    """Both passes' tables as written (a streaming pass's recorded columns, a fast scan's
    analysis DataFrame) read back equal to the result's DataFrames."""
    import framesift as fs

    spec = fs.SamplingSpec(interval_s=1.0, decode=fs.DecodeSpec(fast=fast))
    result = fs.write_sample(str(cuts_video.path), str(tmp_path), spec)
    assert result.stats.mode == ("fast" if fast else "straight")
    for name in PASS_TABLES:
        table = getattr(result, name)
        assert table.height > 0
        assert_frame_equal(pl.read_parquet(tmp_path / f"{name}.parquet"), table)
