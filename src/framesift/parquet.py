"""A small Parquet writer for a pass's own tables, in pure Python and numpy.

Why it exists: a ``framesift sample`` command writes three small tables (kept frames,
scenes, the per-frame analysis), and importing a dataframe library to write them cost
the command more than the tables did: on a 55-s 720p trailer, polars's import and first
use took 0.3-0.4 CPU s and 0.1-0.13 s of the command's ~2.4 s (its import alone 0.2 CPU s,
pyarrow's 0.07; benchmarks/RESULTS.md, "Twelfth session"). This writer imports nothing
beyond the standard library and numpy, which the pass has loaded anyway.

What it writes: one row group per file; per column one data page (format v1) of PLAIN
values, compressed with GZIP (the standard library's zlib); every column OPTIONAL, as
polars and pyarrow write them; nulls as definition levels and lists in the three-level
LIST layout of the format's specification, levels in one bit-packed run. The column kinds
are :data:`framesift.schema.COLUMN_KINDS`' (``bool i32 i64 u64 f32 f64 str list[str]
list[f32]``), with the logical types that make polars, DuckDB and pyarrow read them back
as the polars schema of the same table (``tests/test_parquet.py`` reads every kind, nulls,
empty lists and empty tables back through all three). Statistics are not written: the
tables are small and read whole.

Everything else in the project (the catalog's parts) is written by polars, where the
import is paid once per worker.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from framesift.errors import SettingsError

__all__ = ["Values", "write_parquet"]

Values = Sequence[Any] | NDArray[Any]
"""A column's values: None is null; numpy arrays hold no nulls."""

_MAGIC = b"PAR1"

# parquet.thrift: Type, FieldRepetitionType, ConvertedType, Encoding, CompressionCodec.
_BOOLEAN, _INT32, _INT64, _FLOAT, _DOUBLE, _BYTE_ARRAY = 0, 1, 2, 4, 5, 6
_OPTIONAL, _REPEATED = 1, 2
_UTF8, _LIST, _UINT_64 = 0, 3, 14
_PLAIN, _RLE = 0, 3
_GZIP = 2
_DATA_PAGE = 0

# Thrift compact protocol: field types.
_T_TRUE, _T_FALSE, _T_BYTE, _T_I32, _T_I64, _T_BINARY, _T_LIST, _T_STRUCT = 1, 2, 3, 5, 6, 8, 9, 12


@dataclass(frozen=True)
class _Primitive:
    physical: int
    dtype: str  # numpy's, little-endian; "" for booleans and byte arrays
    logical: str  # "", "string" or "uint64": the annotation the readers need


class _Chunk(NamedTuple):
    """One column as written: its name and type, and where its page lies."""

    name: str
    primitive: _Primitive
    nested: bool
    levels: int  # values in its page, nulls and list markers included
    offset: int
    size: int


_PRIMITIVES: dict[str, _Primitive] = {
    "bool": _Primitive(_BOOLEAN, "", ""),
    "i32": _Primitive(_INT32, "<i4", ""),
    "i64": _Primitive(_INT64, "<i8", ""),
    "u64": _Primitive(_INT64, "<u8", "uint64"),
    "f32": _Primitive(_FLOAT, "<f4", ""),
    "f64": _Primitive(_DOUBLE, "<f8", ""),
    "str": _Primitive(_BYTE_ARRAY, "", "string"),
}


def write_parquet(file: IO[bytes], kinds: Mapping[str, str], columns: Mapping[str, Values]) -> None:
    """Write ``columns`` (name -> values; None is null; numpy arrays hold no nulls) as a
    Parquet file of the columns of ``kinds`` (name -> kind), in its order."""
    lengths = {len(columns[name]) for name in kinds}
    if len(lengths) > 1:
        raise SettingsError(f"columns of different lengths: {sorted(lengths)}")
    num_rows = lengths.pop() if lengths else 0
    file.write(_MAGIC)
    offset = len(_MAGIC)
    chunks: list[_Chunk] = []
    for name, kind in kinds.items():
        nested = kind.startswith("list[")
        primitive = _PRIMITIVES.get(kind[5:-1] if nested else kind)
        if primitive is None:
            raise SettingsError(f"column {name!r}: no Parquet kind {kind!r}")
        page, levels = _page(primitive, nested, columns[name])
        file.write(page)
        chunks.append(_Chunk(name, primitive, nested, levels, offset, len(page)))
        offset += len(page)
    footer = _footer(chunks, num_rows)
    file.write(footer)
    file.write(struct.pack("<I", len(footer)))
    file.write(_MAGIC)


# -- pages ------------------------------------------------------------------------------


def _page(primitive: _Primitive, nested: bool, values: Values) -> tuple[bytes, int]:
    """One data page of a column (header and body) and its number of levels."""
    if nested:
        repetition, definition, elements = _list_levels(values)
        body = _levels(repetition, 1) + _levels(definition, 3) + _plain(primitive, elements)
        count = len(definition)
    else:
        present, leaves = _present(values)
        body = _levels(present, 1) + _plain(primitive, leaves)
        count = len(present)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
    compressed = compressor.compress(body) + compressor.flush()
    header = _Thrift()
    header.i32(1, _DATA_PAGE)
    header.i32(2, len(body))
    header.i32(3, len(compressed))
    header.begin_struct(5)  # DataPageHeader
    header.i32(1, count)
    header.i32(2, _PLAIN)
    header.i32(3, _RLE)
    header.i32(4, _RLE)
    header.end_struct()
    header.stop()
    return bytes(header.out) + compressed, count


def _present(
    values: Values,
) -> tuple[NDArray[np.uint8], Values]:
    """(1 where a value is present else 0, the present values)."""
    if isinstance(values, np.ndarray):
        return np.ones(len(values), np.uint8), values
    present = np.fromiter((v is not None for v in values), np.uint8, len(values))
    if present.all():
        return present, values
    return present, [v for v in values if v is not None]


def _list_levels(
    values: Values,
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], list[Any]]:
    """Repetition and definition levels and the present elements of a list column (the
    LIST layout: optional list, repeated group, optional element: definition 0 for a
    null list, 1 for an empty one, 2 for a null element, 3 for a present one)."""
    repetition: list[int] = []
    definition: list[int] = []
    leaves: list[Any] = []
    for items in values:
        if items is None or len(items) == 0:
            repetition.append(0)
            definition.append(0 if items is None else 1)
            continue
        for position, item in enumerate(items):
            repetition.append(0 if position == 0 else 1)
            definition.append(2 if item is None else 3)
            if item is not None:
                leaves.append(item)
    return np.array(repetition, np.uint8), np.array(definition, np.uint8), leaves


def _levels(levels: NDArray[np.uint8], max_level: int) -> bytes:
    """Levels in the RLE/bit-packing hybrid as one bit-packed run (groups of eight values,
    least significant bit first; the last group padded), after its 4-byte length."""
    width = max_level.bit_length()
    groups = -(-len(levels) // 8)
    padded = np.zeros(groups * 8, np.uint8)
    padded[: len(levels)] = levels
    bits = (padded[:, None] >> np.arange(width, dtype=np.uint8)) & 1
    packed = np.packbits(bits.ravel(), bitorder="little").tobytes()
    run = _varint((groups << 1) | 1) + packed if groups else b""
    return struct.pack("<I", len(run)) + run


def _plain(primitive: _Primitive, values: Values) -> bytes:
    """Present values in PLAIN encoding."""
    if primitive.physical == _BYTE_ARRAY:
        parts: list[bytes] = []
        for value in values:
            data = value.encode("utf-8")
            parts.append(struct.pack("<I", len(data)))
            parts.append(data)
        return b"".join(parts)
    if primitive.physical == _BOOLEAN:
        return np.packbits(np.asarray(values, bool), bitorder="little").tobytes()
    return np.asarray(values, primitive.dtype).tobytes()


# -- footer -----------------------------------------------------------------------------


def _footer(chunks: Sequence[_Chunk], num_rows: int) -> bytes:
    """The file's metadata (FileMetaData): its schema and its one row group."""
    meta = _Thrift()
    meta.i32(1, 1)  # version
    elements = 1 + sum(3 if chunk.nested else 1 for chunk in chunks)
    meta.list_header(2, _T_STRUCT, elements)
    meta.begin_element()
    meta.binary(4, b"schema")
    meta.i32(5, len(chunks))
    meta.end_struct()
    for name, primitive, nested, *_ in chunks:
        if nested:  # the LIST layout: optional group (LIST), repeated group, element
            meta.begin_element()
            meta.i32(3, _OPTIONAL)
            meta.binary(4, name.encode())
            meta.i32(5, 1)
            meta.i32(6, _LIST)
            meta.begin_struct(10)  # LogicalType: LIST
            meta.begin_struct(3)
            meta.end_struct()
            meta.end_struct()
            meta.end_struct()
            meta.begin_element()
            meta.i32(3, _REPEATED)
            meta.binary(4, b"list")
            meta.i32(5, 1)
            meta.end_struct()
        _leaf(meta, "element" if nested else name, primitive)
    meta.i64(3, num_rows)
    meta.list_header(4, _T_STRUCT, 1)
    meta.begin_element()  # RowGroup
    meta.list_header(1, _T_STRUCT, len(chunks))
    for name, primitive, nested, levels, offset, size in chunks:
        meta.begin_element()  # ColumnChunk
        meta.i64(2, offset)
        meta.begin_struct(3)  # ColumnMetaData
        meta.i32(1, primitive.physical)
        meta.list_header(2, _T_I32, 2)
        meta.varint_zigzag(_PLAIN)
        meta.varint_zigzag(_RLE)
        path = [name, "list", "element"] if nested else [name]
        meta.list_header(3, _T_BINARY, len(path))
        for part in path:
            meta.raw_binary(part.encode())
        meta.i32(4, _GZIP)
        meta.i64(5, levels)
        meta.i64(6, size)  # the page's header and its compressed body: as written
        meta.i64(7, size)
        meta.i64(9, offset)
        meta.end_struct()
        meta.end_struct()
    meta.i64(2, sum(chunk.size for chunk in chunks))
    meta.i64(3, num_rows)
    meta.end_struct()
    meta.stop()
    return bytes(meta.out)


def _leaf(meta: _Thrift, name: str, primitive: _Primitive) -> None:
    meta.begin_element()
    meta.i32(1, primitive.physical)
    meta.i32(3, _OPTIONAL)
    meta.binary(4, name.encode())
    if primitive.logical == "string":
        meta.i32(6, _UTF8)
        meta.begin_struct(10)  # LogicalType: STRING
        meta.begin_struct(1)
        meta.end_struct()
        meta.end_struct()
    elif primitive.logical == "uint64":
        meta.i32(6, _UINT_64)
        meta.begin_struct(10)  # LogicalType: INTEGER(64, unsigned)
        meta.begin_struct(10)
        meta.byte(1, 64)
        meta.boolean(2, False)
        meta.end_struct()
        meta.end_struct()
    meta.end_struct()


class _Thrift:
    """Thrift's compact protocol, as much of it as the file's metadata needs."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._last = [0]  # the last field id of each open struct

    def _field(self, field: int, kind: int) -> None:
        delta = field - self._last[-1]
        if 0 < delta <= 15:
            self.out.append(delta << 4 | kind)
        else:
            self.out.append(kind)
            self.varint_zigzag(field)
        self._last[-1] = field

    def varint_zigzag(self, value: int) -> None:
        self.out += _varint(value << 1 if value >= 0 else (-value << 1) - 1)

    def i32(self, field: int, value: int) -> None:
        self._field(field, _T_I32)
        self.varint_zigzag(value)

    def i64(self, field: int, value: int) -> None:
        self._field(field, _T_I64)
        self.varint_zigzag(value)

    def byte(self, field: int, value: int) -> None:
        self._field(field, _T_BYTE)
        self.out.append(value & 0xFF)

    def boolean(self, field: int, value: bool) -> None:
        self._field(field, _T_TRUE if value else _T_FALSE)

    def binary(self, field: int, value: bytes) -> None:
        self._field(field, _T_BINARY)
        self.raw_binary(value)

    def raw_binary(self, value: bytes) -> None:
        self.out += _varint(len(value)) + value

    def list_header(self, field: int, element: int, size: int) -> None:
        self._field(field, _T_LIST)
        if size < 15:
            self.out.append(size << 4 | element)
        else:
            self.out.append(0xF0 | element)
            self.out += _varint(size)

    def begin_struct(self, field: int) -> None:
        self._field(field, _T_STRUCT)
        self._last.append(0)

    def begin_element(self) -> None:
        """A struct as an element of a list (no field header)."""
        self._last.append(0)

    def end_struct(self) -> None:
        self.out.append(0)
        self._last.pop()

    def stop(self) -> None:
        """The end of the outermost struct."""
        self.out.append(0)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
