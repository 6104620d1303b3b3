"""Read a corpus: token statistics with DuckDB over the Parquet shards, occurrences, contexts, grids.

:func:`corpus_stats` runs a handful of DuckDB queries over ``codes/*.parquet`` with a memory
limit and a spill folder, so the corpus is never loaded into memory: every query unnests the
``codes`` lists row by row and aggregates into tables bounded by the codebook (counts per
code, per run length, per n-gram kept to the top ones, per code pair of layer 0 and one
other layer). Only those aggregates reach Python. :class:`Corpus` is the Python face of a
corpus folder: ids, errors, stats, :meth:`Corpus.find`, :meth:`Corpus.concordance` and
:meth:`Corpus.grid`.

Definitions (the tests recompute each with numpy):

- usage, entropy (bits), perplexity ``2**entropy``, unused codes: over every frame of a layer;
- runs: maximal stretches of one code within an utterance's layer, in frames;
- n-grams (n = 1, 2, 3): over each utterance's layer with runs collapsed to one code (a code
  held for 20 frames counts once), and n-grams containing the layer's silence code (what the
  codec gives digital silence, kept in ``corpus.json``) left out, so pauses do not flood them;
- mutual information of layer 0 with layer k, in bits: the plug-in estimate from the joint
  counts of the two layers' codes at the same frame, which is biased upwards when code pairs
  are many and frames few; ``mi_layer0_bits_corrected`` subtracts the Miller-Madow estimate
  of that bias, ``(K_ab - K_a - K_b + 1) / (2 N ln 2)`` with ``K`` the numbers of pairs and
  codes seen and ``N`` the frames (at least 0; a first-order correction, itself unreliable
  when the pairs seen approach the frames, as in a small corpus).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .encode import require_corpus_extra
from .inputs import CorpusError
from .store import CODES_DIR, ERRORS_DIR, read_manifest

__all__ = ["Corpus", "Occurrence", "Snippet", "corpus_stats"]

#: DuckDB's memory limit for statistics queries; it spills to disk past it.
DUCKDB_MEMORY_LIMIT = "1GB"
#: Run-length buckets reported by :func:`corpus_stats`, in frames (upper bounds; last is open).
RUN_BUCKETS = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Occurrence:
    """One place a code occurs: utterance ``id``, ``frame`` index and its start ``time_s``."""

    id: str
    frame: int
    time_s: float


@dataclass(frozen=True)
class Snippet:
    """Audio around one occurrence of a code.

    ``audio`` covers ``start_s .. stop_s`` of the utterance; the code's frame lies at
    ``frame_s`` (seconds from the snippet's start); ``origin`` is ``"file"`` (cut from the
    source recording) or ``"decoded"`` (decoded from the codes, when the source is gone).
    """

    id: str
    frame: int
    start_s: float
    stop_s: float
    frame_s: float
    origin: str
    audio: Any


def _connect(root: Path, threads: int | None = None) -> Any:
    require_corpus_extra("duckdb", "pyarrow")
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET threads={int(threads or min(4, os.cpu_count() or 1))}")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")
    con.execute(f"SET temp_directory='{_quote(tempfile.gettempdir())}/qtok_duckdb_spill'")
    shards = sorted((root / CODES_DIR).glob("*.parquet"))
    if shards:
        files = ", ".join(f"'{_quote(str(p))}'" for p in shards)
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet([{files}])")
    else:
        from .store import codes_schema

        con.register("t_empty", codes_schema().empty_table())
        con.execute("CREATE VIEW t AS SELECT * FROM t_empty")
    con.execute(
        "CREATE VIEW per_layer AS SELECT id, unnest(range(len(codes))) AS layer, unnest(codes) AS lc FROM t"
    )
    return con


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _entropy_bits(counts: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def corpus_stats(
    path: str | os.PathLike[str], *, top: int = 10, threads: int | None = None
) -> dict[str, Any]:
    """Token statistics of the corpus at ``path``, computed out of core with DuckDB.

    Parameters
    ----------
    path : str or os.PathLike
        A corpus folder (``qtok corpus encode``'s output).
    top : int
        How many n-grams to keep per layer and n.
    threads : int, optional
        DuckDB threads (default ``min(4, cpu_count)``).

    Returns
    -------
    dict
        ``n_utterances``, ``n_frames``, ``duration_s``, ``n_layers``, ``codebook_size`` and
        ``layers``: one dict per layer with ``used``, ``unused``, ``entropy_bits``,
        ``perplexity``, ``silence_code``, ``silence_fraction``, ``runs`` (``mean_frames``,
        ``max_frames``, ``buckets``: fraction of runs of length ``<=1, <=2, <=4 ... >32``),
        ``top_ngrams`` (``{"1": [{"codes": [...], "count": n}, ...], "2": ..., "3": ...}``)
        ``mi_layer0_bits`` and ``mi_layer0_bits_corrected`` (None for layer 0). See the module
        docstring for definitions.
    """
    root = Path(path)
    manifest = read_manifest(root)
    n_layers, size = int(manifest["n_layers"]), int(manifest["codebook_size"])
    silence = [int(c) for c in manifest.get("silence_codes") or [-1] * n_layers]
    con = _connect(root, threads)
    try:
        counts = _usage(con, n_layers, size)
        n_utt, n_frames, duration = con.execute(
            "SELECT count(*), coalesce(sum(n_frames), 0), coalesce(sum(duration_s), 0) FROM t"
        ).fetchone()
        runs = _runs(con, n_layers)
        grams = _ngrams(con, silence, size, top)
        mi = _mutual_information(con, size)
    finally:
        con.close()
    layers = []
    for layer in range(n_layers):
        c = counts[layer]
        total = int(c.sum())
        h = _entropy_bits(c)
        s = silence[layer] if layer < len(silence) else -1
        layers.append(
            {
                "layer": layer,
                "frames": total,
                "used": int(np.count_nonzero(c)),
                "unused": int(size - np.count_nonzero(c)),
                "entropy_bits": h,
                "perplexity": float(2.0**h),
                "silence_code": s,
                "silence_fraction": float(c[s] / total) if total and 0 <= s < size else 0.0,
                "runs": runs.get(layer, {"mean_frames": 0.0, "max_frames": 0, "buckets": []}),
                "top_ngrams": grams.get(layer, {"1": [], "2": [], "3": []}),
                "mi_layer0_bits": None if layer == 0 else mi.get(layer, (0.0, 0.0))[0],
                "mi_layer0_bits_corrected": None if layer == 0 else mi.get(layer, (0.0, 0.0))[1],
            }
        )
    return {
        "corpus": str(root),
        "codec": manifest.get("codec"),
        "n_utterances": int(n_utt),
        "n_frames": int(n_frames),
        "duration_s": float(duration),
        "n_layers": n_layers,
        "codebook_size": size,
        "layers": layers,
    }


def _usage(con: Any, n_layers: int, size: int) -> np.ndarray:
    """Code counts, int64 ``(n_layers, codebook_size)``."""
    rows = con.execute(
        "SELECT layer, code, count(*) FROM (SELECT layer, unnest(lc) AS code FROM per_layer) GROUP BY ALL"
    ).fetchnumpy()
    counts = np.zeros((n_layers, size), np.int64)
    keys = list(rows)
    if len(rows[keys[0]]):
        np.add.at(counts, (rows[keys[0]].astype(np.int64), rows[keys[1]].astype(np.int64)), rows[keys[2]])
    return counts


def _runs(con: Any, n_layers: int) -> dict[int, dict[str, Any]]:
    rows = con.execute(
        """
        WITH b AS (
          SELECT layer, list_concat([1], list_filter(range(2, len(lc) + 1), lambda i: lc[i] != lc[i - 1]),
                                    [len(lc) + 1]) AS starts
          FROM per_layer WHERE len(lc) > 0),
        r AS (SELECT layer, unnest(list_transform(range(1, len(starts)), lambda j: starts[j + 1] - starts[j])) AS n
              FROM b)
        SELECT layer, n, count(*) FROM r GROUP BY ALL ORDER BY layer, n
        """
    ).fetchall()
    out: dict[int, dict[str, Any]] = {}
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for layer, n, k in rows:
        by_layer.setdefault(int(layer), []).append((int(n), int(k)))
    for layer, pairs in by_layer.items():
        lengths = np.array([p[0] for p in pairs], np.int64)
        number = np.array([p[1] for p in pairs], np.int64)
        n_runs = int(number.sum())
        edges = [0, *RUN_BUCKETS]
        buckets = [
            float(number[(lengths > lo) & (lengths <= hi)].sum() / n_runs)
            for lo, hi in itertools.pairwise(edges)
        ]
        buckets.append(float(number[lengths > RUN_BUCKETS[-1]].sum() / n_runs))
        out[layer] = {
            "mean_frames": float((lengths * number).sum() / n_runs),
            "max_frames": int(lengths.max()),
            "buckets": buckets,
        }
    return out


def _ngrams(con: Any, silence: list[int], size: int, top: int) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Top n-grams (n = 1..3) per layer over run-collapsed codes without the silence code."""
    sil = "[" + ", ".join(str(int(s)) for s in silence) + "]"
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW collapsed AS
        SELECT layer, {sil}[layer + 1] AS s,
               list_filter(lc, lambda x, i: i = 1 OR x != lc[i - 1]) AS d FROM per_layer"""
    )
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    k = int(size)
    exprs = {
        1: ("d[i]::BIGINT", "d[i] != s"),
        2: (f"d[i]::BIGINT * {k} + d[i + 1]", "d[i] != s AND d[i + 1] != s"),
        3: (
            f"(d[i]::BIGINT * {k} + d[i + 1]) * {k} + d[i + 2]",
            "d[i] != s AND d[i + 1] != s AND d[i + 2] != s",
        ),
    }
    for n, (key, keep) in exprs.items():
        rows = con.execute(
            f"""
            WITH g AS (
              SELECT layer, unnest(list_transform(
                  list_filter(range(1, len(d) - {n - 1} + 1), lambda i: {keep}), lambda i: {key})) AS gram
              FROM collapsed),
            c AS (SELECT layer, gram, count(*) AS n FROM g GROUP BY ALL)
            SELECT layer, gram, n FROM c
            QUALIFY row_number() OVER (PARTITION BY layer ORDER BY n DESC, gram) <= {int(top)}
            ORDER BY layer, n DESC, gram
            """
        ).fetchall()
        for layer, gram, count in rows:
            codes = []
            g = int(gram)
            for _ in range(n):
                codes.append(g % k)
                g //= k
            out.setdefault(int(layer), {"1": [], "2": [], "3": []})[str(n)].append(
                {"codes": codes[::-1], "count": int(count)}
            )
    return out


def _mutual_information(con: Any, size: int) -> dict[int, tuple[float, float]]:
    """Mutual information in bits between layer 0 and each other layer: (plug-in, Miller-Madow corrected)."""
    k = int(size)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE joint AS
        WITH p AS (
          SELECT unnest(range(1, len(codes))) AS layer, codes[1] AS c0,
                 unnest(list_slice(codes, 2, len(codes))) AS lc FROM t),
        pairs AS (SELECT layer, unnest(list_transform(range(1, len(lc) + 1),
                                                      lambda i: c0[i]::BIGINT * {k} + lc[i])) AS pair FROM p)
        SELECT layer, pair // {k} AS a, pair % {k} AS b, count(*)::DOUBLE AS n FROM pairs GROUP BY ALL"""
    )
    rows = con.execute(
        """
        WITH tot AS (SELECT layer, sum(n) AS total, count(*) AS cells FROM joint GROUP BY layer),
        pa AS (SELECT layer, a, sum(n) AS na FROM joint GROUP BY layer, a),
        pb AS (SELECT layer, b, sum(n) AS nb FROM joint GROUP BY layer, b),
        ka AS (SELECT layer, count(*) AS k FROM pa GROUP BY layer),
        kb AS (SELECT layer, count(*) AS k FROM pb GROUP BY layer),
        mi AS (
          SELECT j.layer, sum(j.n / tot.total * log2(j.n * tot.total / (pa.na * pb.nb))) AS bits
          FROM joint j JOIN tot USING (layer) JOIN pa USING (layer, a) JOIN pb USING (layer, b)
          GROUP BY j.layer)
        SELECT mi.layer, mi.bits, tot.total, tot.cells, ka.k, kb.k
        FROM mi JOIN tot USING (layer) JOIN ka USING (layer) JOIN kb USING (layer)
        """
    ).fetchall()
    con.execute("DROP TABLE joint")
    out = {}
    for layer, bits, total, cells, k_a, k_b in rows:
        # Miller-Madow: the plug-in estimate's first-order bias, (K_ab - K_a - K_b + 1) / (2 N ln 2)
        bias = (cells - k_a - k_b + 1) / (2 * total * math.log(2))
        out[int(layer)] = (max(0.0, float(bits)), max(0.0, float(bits) - bias))
    return out


class Corpus:
    """A corpus folder written by ``qtok corpus encode`` / :func:`~qtok_widgets.corpus.encode_corpus`.

    Parameters
    ----------
    path : str or os.PathLike
        The corpus folder (holds ``corpus.json``).

    Raises
    ------
    CorpusError
        Not a corpus, or the ``[corpus]`` extra is missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        require_corpus_extra("duckdb", "pyarrow")
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        self._codec: Any = None

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"Corpus({str(self.path)!r}, codec={m.get('codec')!r}, {m.get('n_utterances', '?')} utterances, "
            f"{float(m.get('duration_s', 0)) / 3600:.2f} h, {m.get('n_errors', 0)} errors)"
        )

    @property
    def frame_rate(self) -> float:
        return float(self.manifest["frame_rate"])

    def _query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = _connect(self.path, threads=None)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def ids(self) -> list[str]:
        """Utterance ids, sorted."""
        return [r[0] for r in self._query("SELECT id FROM t ORDER BY id")]

    def errors(self) -> list[dict[str, str]]:
        """The errors table: ``id``, ``source`` (input path) and one-line ``reason`` per failed input."""
        import pyarrow.parquet as pq

        out: list[dict[str, str]] = []
        for p in sorted((self.path / ERRORS_DIR).glob("*.parquet")):
            out.extend(pq.read_table(p).to_pylist())
        return sorted(out, key=lambda r: r["id"])

    def stats(self, *, top: int = 10) -> dict[str, Any]:
        """:func:`corpus_stats` of this corpus."""
        return corpus_stats(self.path, top=top)

    def code_counts(self) -> np.ndarray:
        """How often each code occurs in each layer: int64 ``(n_layers, codebook_size)``."""
        con = _connect(self.path)
        try:
            return _usage(con, int(self.manifest["n_layers"]), int(self.manifest["codebook_size"]))
        finally:
            con.close()

    def _check(self, layer: Any, code: Any) -> tuple[int, int]:
        n_layers, size = int(self.manifest["n_layers"]), int(self.manifest["codebook_size"])
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < n_layers:
            msg = f"layer {layer!r} is out of range: it must be an integer in 0..{n_layers - 1}"
            raise CorpusError(msg)
        if not isinstance(code, (int, np.integer)) or not 0 <= code < size:
            msg = f"code {code!r} is out of range: it must be an integer in 0..{size - 1}"
            raise CorpusError(msg)
        return int(layer), int(code)

    def find(self, layer: int, code: int, *, limit: int | None = None) -> list[Occurrence]:
        """Every frame where ``layer`` holds ``code``, sorted by utterance and frame.

        Parameters
        ----------
        layer : int
            In ``0..n_layers-1``.
        code : int
            In ``0..codebook_size-1``.
        limit : int, optional
            Return at most this many (the first ones in that order).
        """
        layer, code = self._check(layer, code)
        lim = f"LIMIT {int(limit)}" if limit is not None else ""
        rows = self._query(
            f"""SELECT id, unnest(list_filter(range(len(codes[{layer + 1}])),
                                             lambda i: codes[{layer + 1}][i + 1] = {code})) AS frame
                FROM t ORDER BY id, frame {lim}"""
        )
        fr = self.frame_rate
        return [Occurrence(str(i), int(f), int(f) / fr) for i, f in rows]

    def sample(self, layer: int, code: int, n: int = 10, *, seed: int = 0) -> list[Occurrence]:
        """``n`` occurrences of ``code`` in ``layer`` drawn at random (the same ones for the same seed)."""
        layer, code = self._check(layer, code)
        rows = self._query(
            f"""WITH o AS (SELECT id, unnest(list_filter(range(len(codes[{layer + 1}])),
                                             lambda i: codes[{layer + 1}][i + 1] = {code})) AS frame FROM t)
                SELECT id, frame FROM o ORDER BY hash(id, frame, {int(seed)}), id, frame LIMIT {int(n)}"""
        )
        fr = self.frame_rate
        return sorted(
            (Occurrence(str(i), int(f), int(f) / fr) for i, f in rows), key=lambda o: (o.id, o.frame)
        )

    def _row(self, utterance_id: str) -> dict[str, Any]:
        con = _connect(self.path)
        try:
            result = con.execute("SELECT * FROM t WHERE id = ? LIMIT 1", [str(utterance_id)])
            names = [d[0] for d in result.description]
            found = result.fetchone()
        finally:
            con.close()
        if found is None:
            n = self.manifest.get("n_utterances", 0)
            msg = f"no utterance {utterance_id!r} in {self.path} ({n} utterances; see ids())"
            raise CorpusError(msg)
        out = dict(zip(names, found, strict=True))
        out["codes"] = np.array(out["codes"], dtype=np.int32).reshape(len(out["codes"]), -1)
        return out

    def grid(self, utterance_id: str) -> Any:
        """The codes of one utterance as a :class:`~qtok_widgets.CodeGrid` (to open in the editor)."""
        from ..grid import CodeGrid

        row = self._row(utterance_id)
        return CodeGrid(
            row["codes"],
            codec=row["codec"],
            frame_rate=row["frame_rate"],
            sample_rate=int(row["sample_rate"]),
            codebook_size=int(self.manifest["codebook_size"]),
            n_samples=int(row["n_samples"]),
        )

    def source(self, utterance_id: str) -> str:
        """The path the utterance was encoded from (it may no longer exist)."""
        return str(self._row(utterance_id)["source"])

    @property
    def codec(self) -> Any:
        """The corpus's codec, loaded on first use (for decoding when a source file is gone)."""
        if self._codec is None:
            from ..codecs import load_codec

            self._codec = load_codec(self.manifest.get("codec_arg") or self.manifest["codec"])
        return self._codec

    def concordance(
        self, layer: int, code: int, n: int = 10, context_s: float = 1.0, *, seed: int = 0
    ) -> list[Snippet]:
        """Audio around ``n`` random occurrences of ``code`` in ``layer``.

        Each snippet covers the code's frame plus ``context_s`` seconds on each side (cut at
        the utterance's ends): from the source file when it still exists, else decoded from
        the codes.

        Returns
        -------
        list of Snippet
            At most ``n``, sorted by utterance and frame.
        """
        if (
            not isinstance(context_s, (int, float))
            or not math.isfinite(context_s)
            or not 0 <= context_s <= 60
        ):
            msg = f"context_s must be a number of seconds in 0..60, got {context_s!r}"
            raise CorpusError(msg)
        return [self.snippet(o.id, o.frame, context_s) for o in self.sample(layer, code, n, seed=seed)]

    def snippet(self, utterance_id: str, frame: int, context_s: float = 1.0) -> Snippet:
        """Audio of ``frame`` of one utterance with ``context_s`` seconds on each side."""
        from ..audio import Audio, load_audio

        row = self._row(utterance_id)
        fr = float(row["frame_rate"])
        duration = float(row["duration_s"])
        t0 = frame / fr
        start = max(0.0, t0 - context_s)
        stop = min(duration, (frame + 1) / fr + context_s)
        src = Path(str(row["source"]))
        if src.is_file():
            audio = load_audio(src)
            rate = audio.sample_rate
            samples = audio.samples[round(start * rate) : round(stop * rate)]
            origin = "file"
        else:
            grid = self.grid(utterance_id)
            f0, f1 = math.floor(start * fr), min(grid.n_frames, math.ceil(stop * fr))
            rate = grid.sample_rate
            # decode only the codec's independent chunks that cover the frames [f0, f1)
            chunks = self.codec.decode_chunks(grid.n_frames)
            f0 = max(a for a, _ in chunks if a <= f0)
            f1 = min(b for _, b in chunks if b >= f1)
            decoded = np.asarray(self.codec.decode_range(grid, f0, f1), np.float32)
            off = round((start - f0 / fr) * rate)
            samples = np.clip(decoded[off : off + round((stop - start) * rate)], -1.0, 1.0)
            origin = "decoded"
        audio = Audio(samples, rate, f"{utterance_id} {start:.2f}-{stop:.2f} s")
        return Snippet(str(utterance_id), int(frame), start, stop, t0 - start, origin, audio)

    def to_json(self) -> str:
        """``corpus.json`` as a string."""
        return json.dumps(self.manifest, indent=1)
