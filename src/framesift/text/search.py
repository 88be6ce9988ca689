"""Ranked search over the catalog's timed text, in DuckDB SQL.

Words are maximal runs of letters and digits (any script) after lower-casing and removing
accents, in the text and in the query alike. Each segment matching at least one query
word is ranked by BM25 (k1 = 1.2, b = 0.75) over the segments searched, from an index of
the words (:data:`INDEX_SQL`) built in the catalog's DuckDB connection on the first search
and again whenever ``segments`` changes. Each hit carries
the kept frame shown at the middle of its segment (the last kept frame at or before it),
so a notebook can show what was on screen when the words were said or shown.

Languages are BCP-47 tags (:mod:`framesift.language`). The index reads the codes that
catalogs written before that held as their tags (``eng`` -> ``en``, ``chi_sim`` ->
``zh-Hans``, ``und`` and Tesseract's ``eng+fra`` -> unknown), so old and new text answer the
same filter; a filter ``en`` also finds ``en-US`` and ``en-GB``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from framesift.errors import SettingsError
from framesift.language import LANGUAGE_SQL, require_language
from framesift.text.model import TEXT_SOURCES

__all__ = ["BM25_B", "BM25_K1", "INDEX_SQL", "search_query", "words"]

BM25_K1 = 1.2
BM25_B = 0.75
WORD_SPLIT = r"[^\p{L}\p{N}]+"
"""What separates words (RE2, DuckDB's regex engine)."""


def _tokens(expr: str) -> str:
    return (
        f"list_filter(regexp_split_to_array(lower(strip_accents({expr})), $split), "
        "lambda t: t <> '')"
    )


def words(query: str) -> list[str]:
    """The query's words as the search sees them (for messages; the SQL splits alike)."""
    import re
    import unicodedata

    plain = "".join(
        c for c in unicodedata.normalize("NFKD", query.lower()) if not unicodedata.combining(c)
    )
    return [w for w in re.split(r"[\W_]+", plain) if w]


INDEX_SQL = (
    f"""
CREATE OR REPLACE TEMP TABLE _search_docs AS
SELECT row_number() OVER () AS doc, s.video_id, s.source, s.start_s, s.end_s, s.text,
       CASE WHEN contains(s.language, '+') THEN NULL
            WHEN m.code IS NOT NULL THEN m.tag
            ELSE replace(s.language, '_', '-') END AS language,
       {_tokens("s.text")} AS toks
FROM segments s LEFT JOIN ({LANGUAGE_SQL}) m ON m.code = lower(s.language)
""",
    """
CREATE OR REPLACE TEMP TABLE _search_postings AS
SELECT doc, term, count(*)::DOUBLE AS f
FROM (SELECT doc, unnest(toks) AS term FROM _search_docs)
GROUP BY doc, term
""",
    "ALTER TABLE _search_docs DROP COLUMN toks",
    "ALTER TABLE _search_docs ADD COLUMN dl DOUBLE",
    """
UPDATE _search_docs d SET dl = coalesce(
    (SELECT sum(p.f) FROM _search_postings p WHERE p.doc = d.doc), 0)
""",
)
"""Statements that (re)build the search index of the catalog's current ``segments``: one
row per segment with its length in words, one posting per segment and word. Built on the
first search and again when ``segments`` changes; memory ~30 bytes per word occurrence."""


def search_query(
    query: str,
    *,
    limit: int = 20,
    sources: Sequence[str] | None = None,
    video_id: str | None = None,
    language: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(SQL, bound parameters) for :meth:`framesift.Catalog.search`, over the index that
    :data:`INDEX_SQL` builds."""
    if not words(query):
        raise SettingsError(f"search {query!r}: the query has no words to look for")
    if limit < 1:
        raise SettingsError(f"limit={limit}: must be at least 1")
    params: dict[str, Any] = {"query": query, "split": WORD_SPLIT, "limit": limit}
    where = ["TRUE"]
    if sources is not None:
        unknown = sorted(set(sources) - set(TEXT_SOURCES))
        if unknown:
            raise SettingsError(f"sources {unknown}: allowed {', '.join(TEXT_SOURCES)}")
        where.append("s.source IN (SELECT unnest($sources))")
        params["sources"] = list(sources)
    if video_id is not None:
        where.append("s.video_id = $video_id")
        params["video_id"] = video_id
    if language is not None:
        where.append("(s.language = $language OR starts_with(s.language, $language || '-'))")
        params["language"] = require_language(language, "language")
    sql = f"""
WITH docs AS (
    SELECT s.* FROM _search_docs s WHERE {" AND ".join(where)}
),
corpus AS (
    SELECT count(*)::DOUBLE AS n, greatest(avg(dl), 1)::DOUBLE AS avgdl FROM docs
),
q AS (SELECT DISTINCT unnest({_tokens("$query")}) AS term),
tf AS (
    SELECT p.doc, p.term, p.f
    FROM _search_postings p JOIN q ON p.term = q.term JOIN docs d ON d.doc = p.doc
),
df AS (SELECT term, count(*)::DOUBLE AS df FROM tf GROUP BY term),
scored AS (
    SELECT tf.doc,
           sum(
               ln(1 + (c.n - df.df + 0.5) / (df.df + 0.5))
               * tf.f * ({BM25_K1} + 1)
               / (tf.f + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * d.dl / c.avgdl))
           ) AS score,
           count(*) AS words_matched
    FROM tf JOIN df ON tf.term = df.term JOIN docs d ON d.doc = tf.doc CROSS JOIN corpus c
    GROUP BY tf.doc
),
hits AS (  -- the best ones first, then their videos and frames: joins on k rows only
    SELECT d.video_id, d.source, d.start_s, d.end_s, d.text, d.language, s.score,
           s.words_matched, (d.start_s + d.end_s) / 2 AS mid_s
    FROM scored s JOIN docs d ON d.doc = s.doc
    ORDER BY s.score DESC, d.video_id, d.start_s
    LIMIT $limit
)
SELECT h.video_id, v.source_url, h.source, h.start_s, h.end_s, h.text, h.language,
       h.score, h.words_matched, f.frame_index, f.time_s, f.thumbnail_uri
FROM hits h
LEFT JOIN videos v ON v.video_id = h.video_id
ASOF LEFT JOIN (
    SELECT video_id, frame_index, time_s, thumbnail_uri FROM frames
    WHERE video_id IN (SELECT video_id FROM hits)
) f ON f.video_id = h.video_id AND h.mid_s >= f.time_s
ORDER BY h.score DESC, h.video_id, h.start_s
"""
    return sql, params
