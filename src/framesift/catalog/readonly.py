"""Which queries :meth:`Catalog.sql <framesift.catalog.Catalog.sql>` runs by default: one
read-only statement over the catalog's views.

A catalog is read by people who did not write it, and its SQL reaches the machine it runs
on: DuckDB would write files (``COPY ... TO``), read any file (``read_text('/etc/...')``,
``FROM 'file.csv'``), attach databases, read environment variables (``getenv``) or drop
and replace the catalog's own views. By default a query is parsed by DuckDB itself and run
only when it is one ``SELECT`` (``WITH``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``
included) whose tables are the catalog's views or its own CTEs, whose table functions are
pure generators (``range``, ``unnest`` ...), and which calls no function that reaches
outside the query. ``Catalog.sql(..., unsafe=True)`` is the opt-in for power users: it runs
anything, and the views are bound afresh afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any

import duckdb

from framesift.errors import CatalogError, QueryNotAllowedError

__all__ = ["check_read_only"]

_SAFE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "repeat"})
"""Table functions that make rows from their arguments only."""
_UNSAFE_FUNCTIONS = frozenset({"getenv", "query", "query_table", "read_text", "read_blob"})
"""Scalar functions (or names used as such) that reach outside the query."""
_HINT = (
    "Catalog.sql runs one read-only SELECT over the views videos, frames, scenes, analysis, "
    "segments and jobs; pass unsafe=True to run anything DuckDB runs"
)


def check_read_only(con: duckdb.DuckDBPyConnection, query: str, views: Collection[str]) -> None:
    """QueryNotAllowedError unless ``query`` is one read-only statement over ``views``
    (see the module's description); CatalogError when it is not SQL at all."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise CatalogError(f"not a valid query: {exc}") from None
    if len(statements) != 1:
        raise QueryNotAllowedError(f"{len(statements)} statements given: {_HINT}")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise QueryNotAllowedError(f"a {statement.type.name} statement: {_HINT}")
    # DuckDB's own parse tree (DESCRIBE, SHOW and SUMMARIZE are SELECTs over a SHOW_REF
    # that holds what they describe, checked like any other table reference).
    rows = con.execute("SELECT json_serialize_sql(?)", [statement.query]).fetchall()
    tree = json.loads(rows[0][0]) if rows else {"error": True}
    if tree.get("error"):
        raise QueryNotAllowedError(f"not a plain SELECT: {_HINT}")
    allowed = {v.lower() for v in views} | {c.lower() for c in _cte_names(tree)}
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            schema = str(node.get("schema_name") or "")
            catalog = str(node.get("catalog_name") or "")
            if name.lower() not in allowed or schema or catalog:
                shown = ".".join(p for p in (catalog, schema, name) if p)
                raise QueryNotAllowedError(f"reads {shown!r}, not one of the views: {_HINT}")
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", ""))
            if name.lower() not in _SAFE_TABLE_FUNCTIONS:
                raise QueryNotAllowedError(f"calls the table function {name}(): {_HINT}")
        if node.get("class") == "FUNCTION":
            name = str(node.get("function_name", ""))
            if name.lower() in _UNSAFE_FUNCTIONS:
                raise QueryNotAllowedError(f"calls {name}(): {_HINT}")


def _cte_names(tree: Any) -> Iterator[str]:
    for node in _nodes(tree):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map") or []:
                if isinstance(entry, dict) and "key" in entry:
                    yield str(entry["key"])


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the parsed statement, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
