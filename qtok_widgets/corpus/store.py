"""How a corpus lies on disk: Parquet shards of codes, an errors table and ``corpus.json``.

Layout of ``CORPUS_DIR``::

    corpus.json                  codec, its settings, counts, the silence code of each layer
    codes/codes-<i>-<digest>.parquet   one row per utterance (schema :data:`CODES_SCHEMA`)
    errors/codes-<i>-<digest>.parquet  one row per input that could not be read or encoded

A codes shard is written last and by rename, so its presence means its utterances are done;
its errors table (written first) may be absent when all of them succeeded. Codes are a
``list<list<uint16>>`` column, layer-major (``codes[layer][frame]``): compact in Parquet and
directly readable by DuckDB. Only :mod:`pyarrow` is needed here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .inputs import CorpusError

__all__ = [
    "CODES_DIR",
    "CORPUS_FORMAT",
    "ERRORS_DIR",
    "codes_schema",
    "codes_table",
    "errors_table",
    "grid_codes",
    "read_manifest",
    "write_atomic",
]

CORPUS_FORMAT = "qtok-corpus/1"
CODES_DIR = "codes"
ERRORS_DIR = "errors"
MANIFEST = "corpus.json"


def codes_schema() -> Any:
    """The Arrow schema of a codes shard."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("source", pa.string()),
            ("speaker", pa.string()),
            ("text", pa.string()),
            ("meta", pa.string()),  # the manifest's other columns, as a JSON object
            ("codec", pa.string()),
            ("frame_rate", pa.float64()),
            ("sample_rate", pa.int32()),
            ("duration_s", pa.float64()),
            ("n_samples", pa.int64()),
            ("n_frames", pa.int32()),
            ("codes", pa.list_(pa.list_(pa.uint16()))),
        ]
    )


def errors_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("source", pa.string()), ("reason", pa.string())])


def codes_column(grids: list[np.ndarray]) -> Any:
    """Codes of several utterances as one ``list<list<uint16>>`` Arrow array.

    Parameters
    ----------
    grids : list of numpy.ndarray
        int, shape ``(n_layers, n_frames_i)`` each, values in ``0..65535``.
    """
    import pyarrow as pa

    flat = [np.ascontiguousarray(g, dtype=np.uint16).reshape(-1) for g in grids]
    values = pa.array(np.concatenate(flat) if flat else np.zeros(0, np.uint16), type=pa.uint16())
    inner = [0]
    outer = [0]
    for g in grids:
        n_layers, n_frames = g.shape
        start = inner[-1]
        inner.extend(start + n_frames * (k + 1) for k in range(n_layers))
        outer.append(outer[-1] + n_layers)
    layers = pa.ListArray.from_arrays(pa.array(inner, pa.int32()), values)
    return pa.ListArray.from_arrays(pa.array(outer, pa.int32()), layers)


def codes_table(rows: list[dict[str, Any]]) -> Any:
    """A codes shard from rows with the fields of :func:`codes_schema` (``codes`` as arrays)."""
    import pyarrow as pa

    schema = codes_schema()
    columns = {
        name: pa.array([r[name] for r in rows], schema.field(name).type)
        for name in schema.names
        if name != "codes"
    }
    columns["codes"] = codes_column([r["codes"] for r in rows])
    return pa.table([columns[n] for n in schema.names], schema=schema)


def errors_table(rows: list[dict[str, str]]) -> Any:
    import pyarrow as pa

    schema = errors_schema()
    return pa.table({n: pa.array([r[n] for r in rows], pa.string()) for n in schema.names}, schema=schema)


def grid_codes(cell: Any) -> np.ndarray:
    """The codes of one row's ``codes`` cell (an Arrow list scalar) as int32 ``(n_layers, n_frames)``."""
    layers = cell.values  # ListArray: one list per layer
    n_layers = len(layers)
    flat = layers.flatten().to_numpy(zero_copy_only=False).astype(np.int32)
    return flat.reshape(n_layers, -1) if n_layers else np.zeros((0, 0), np.int32)


def write_atomic(table: Any, path: Path) -> None:
    """Write ``table`` to ``path`` as Parquet through a temporary name and a rename."""
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def read_manifest(root: Path) -> dict[str, Any]:
    """``corpus.json`` of the corpus at ``root``.

    Raises
    ------
    CorpusError
        ``root`` is not a corpus (no readable ``corpus.json`` of this format).
    """
    path = Path(root) / MANIFEST
    if not path.is_file():
        msg = f"{root}: not a corpus (no {MANIFEST}); make one with qtok corpus encode"
        raise CorpusError(msg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: unreadable corpus manifest ({exc})"
        raise CorpusError(msg) from None
    if not isinstance(data, dict) or data.get("format") != CORPUS_FORMAT:
        msg = f"{path}: not a {CORPUS_FORMAT} manifest"
        raise CorpusError(msg)
    return data
