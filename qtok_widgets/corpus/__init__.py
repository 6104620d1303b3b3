"""Corpus scale: encode many files on Ray Data, count token statistics with DuckDB, hear any code in context.

``encode_corpus`` (Ray) writes Parquet shards; :class:`Corpus` reads them (DuckDB, pyarrow).
Ray, DuckDB and pyarrow come with the ``[corpus]`` extra and are imported only when used.
"""

from __future__ import annotations

from .encode import EncodeProgress, EncodeSummary, encode_corpus, require_corpus_extra
from .inputs import CorpusError, Utterance, resolve_inputs
from .query import Corpus, Snippet, corpus_stats

__all__ = [
    "Corpus",
    "CorpusError",
    "EncodeProgress",
    "EncodeSummary",
    "Snippet",
    "Utterance",
    "corpus_stats",
    "encode_corpus",
    "require_corpus_extra",
    "resolve_inputs",
]
