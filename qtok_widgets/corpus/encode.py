"""Encode a corpus on Ray Data: one codec per worker actor, one Parquet shard per task.

:func:`encode_corpus` resolves the inputs (:mod:`.inputs`), plans shards with names derived
from their content, skips those already written, and streams the rest through a Ray Data
``map_batches`` over an actor pool: each actor loads the codec once, and for each shard reads
and encodes its files one by one, writes the errors table and then the codes shard (by
rename), and returns one summary row. The driver turns those rows into progress and a summary.

Utterances are encoded one at a time, never padded into a batch: the built-in codec's WORLD
analysis and the Qwen tokenizer's convolutions both see the padding at the end of a shorter
utterance, so padded codes would differ from encoding the file alone; the built-in codec
gains nothing from batching anyway (its work is per frame on the CPU).

Without ``address`` a local Ray is started for the run (``num_cpus=workers``, no dashboard,
a small object store) and stopped after it; when Ray is already initialised in the process,
that Ray is used. Shards are written by the workers, so on a cluster the output folder must
be on storage every node sees.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .inputs import CorpusError, Shard, plan_shards, resolve_inputs
from .store import (
    CODES_DIR,
    CORPUS_FORMAT,
    ERRORS_DIR,
    MANIFEST,
    codes_table,
    errors_table,
    write_atomic,
)

__all__ = ["EncodeProgress", "EncodeSummary", "encode_corpus", "require_corpus_extra"]

log = logging.getLogger("qtok_widgets")

INSTALL_HINT = "pip install 'qtok_widgets[corpus]'"
#: Object store of a local Ray started for a run, in bytes (shards travel as small summaries).
LOCAL_OBJECT_STORE_BYTES = 160 * 2**20


def require_corpus_extra(*modules: str) -> None:
    """Raise :class:`CorpusError` naming the install command when a corpus dependency is missing.

    Parameters
    ----------
    modules : str
        Module names to check (default ``ray``, ``duckdb``, ``pyarrow``).
    """
    import importlib.util
    import sys

    for name in modules or ("ray", "duckdb", "pyarrow"):
        # a module set to None in sys.modules is one whose import is blocked
        if (name in sys.modules and sys.modules[name] is None) or importlib.util.find_spec(name) is None:
            msg = f"corpus commands need {name}, which is not installed; install the extra: {INSTALL_HINT}"
            raise CorpusError(msg)


@dataclass
class EncodeProgress:
    """Where an encode run stands; passed to the ``progress`` callback after each shard."""

    files_done: int
    files_total: int
    audio_s: float
    elapsed_s: float

    @property
    def files_per_s(self) -> float:
        return self.files_done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def audio_hours_per_s(self) -> float:
        return self.audio_s / 3600 / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class EncodeSummary:
    """What an encode run did.

    ``encoded`` and ``failed`` count files of this run; ``skipped_shards`` and
    ``skipped_files`` what an earlier run had already written; ``workers`` maps each worker
    process to its peak resident memory in MB.
    """

    corpus: str
    codec: str
    shards: int
    skipped_shards: int
    skipped_files: int
    encoded: int
    failed: int
    audio_s: float
    elapsed_s: float
    files_per_s: float
    audio_hours_per_s: float
    workers: dict[str, float] = field(default_factory=dict)
    removed_stale: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _codec_key(codec: Any) -> str:
    return json.dumps(
        [codec.name, codec.sample_rate, codec.frame_rate, codec.n_layers, codec.codebook_size],
        separators=(",", ":"),
    )


def _silence_codes(codec: Any) -> list[int]:
    """The code each layer gives one second of digital silence (the most common code there)."""
    from ..audio import Audio

    grid = codec.encode(Audio(np.zeros(codec.sample_rate, np.float32), codec.sample_rate, "silence"))
    return [int(np.bincount(row).argmax()) for row in grid.codes]


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ShardEncoder:
    """A Ray Data actor: holds one codec, encodes whole shards and writes them.

    Parameters
    ----------
    codec_name : str
        For :func:`~qtok_widgets.load_codec`.
    device : str or None
        Codec device.
    out_dir : str
        The corpus folder.
    max_duration_s : float or None
        Longest input accepted, in seconds (:func:`~qtok_widgets.load_audio`).
    """

    def __init__(
        self, codec_name: str, device: str | None, out_dir: str, max_duration_s: float | None
    ) -> None:
        from ..codecs import load_codec

        self.codec = load_codec(codec_name, device=device)
        self.out = Path(out_dir)
        self.max_duration_s = max_duration_s

    def encode_shard(self, name: str, spec: list[dict[str, Any]]) -> dict[str, Any]:
        """Encode the utterances of one shard and write it; returns its summary row."""
        from ..audio import load_audio
        from ..errors import QtokError

        codec = self.codec
        rows, errors = [], []
        audio_s = 0.0
        for u in spec:
            try:
                audio = load_audio(u["path"], max_duration_s=self.max_duration_s)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    grid = codec.encode(audio)
            except (QtokError, OSError, RuntimeError, MemoryError) as exc:
                errors.append({"id": u["id"], "source": u["path"], "reason": _one_line(exc)})
                continue
            audio_s += audio.duration
            rows.append(
                {
                    "id": u["id"],
                    "source": u["path"],
                    "speaker": u["speaker"],
                    "text": u["text"],
                    "meta": json.dumps(u["meta"], sort_keys=True),
                    "codec": grid.codec,
                    "frame_rate": float(grid.frame_rate),
                    "sample_rate": int(grid.sample_rate),
                    "duration_s": float(grid.duration),
                    "n_samples": int(grid.n_samples),
                    "n_frames": int(grid.n_frames),
                    "codes": grid.codes,
                }
            )
        if errors:
            write_atomic(errors_table(errors), self.out / ERRORS_DIR / f"{name}.parquet")
        write_atomic(codes_table(rows), self.out / CODES_DIR / f"{name}.parquet")
        return {
            "name": name,
            "n_ok": len(rows),
            "n_err": len(errors),
            "audio_s": audio_s,
            "pid": f"{os.uname().nodename}:{os.getpid()}",
            "peak_rss_mb": _peak_rss_mb(),
        }

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        results = [
            self.encode_shard(str(name), json.loads(str(spec)))
            for name, spec in zip(batch["name"], batch["spec"], strict=True)
        ]
        return {key: np.array([r[key] for r in results]) for key in results[0]} if results else {}


@contextlib.contextmanager
def _ray_session(address: str | None, workers: int) -> Iterator[Any]:
    """Ray for one run: the given cluster, the process's Ray when there is one, else a local one."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: never report usage
    if ray.is_initialized():
        yield ray
        return
    if address:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            msg = f"cannot connect to the Ray cluster at {address}: {_one_line(exc)}"
            raise CorpusError(msg) from None
    else:
        start_local_ray(workers)
    try:
        yield ray
    finally:
        ray.shutdown()


def start_local_ray(num_cpus: int, *, attempts: int = 3) -> Any:
    """Start a local Ray with ``num_cpus`` CPUs, no dashboard and a small object store.

    Ray gives its raylet a fixed 30 s to register (and the raylet gives its metrics agent 15 s
    to start); on a heavily loaded machine that can pass, so a start that timed out is tried
    again, ``attempts`` times in all, before its error is raised.
    """
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: never report usage
    # a notice on every start that token authentication is on by default (it stays on)
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    for attempt in range(attempts):
        try:
            return ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except Exception as exc:  # Ray raises a bare Exception when its node times out
            ray.shutdown()
            if attempt + 1 >= attempts or "timed out during startup" not in str(exc):
                raise
            log.warning("qtok: Ray did not start in time (%s); trying once more", _one_line(exc))
    return None


def _data_context() -> Any:
    import ray.data

    with warnings.catch_warnings():
        # ray.data's own DataContext sets a field it has deprecated (use_push_based_shuffle)
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the driver reports progress itself
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # ...and Ray Data would warn once that we turned its bars off
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    return ctx


def _check_output(out: Path, inputs: list[str]) -> None:
    if out.exists() and not out.is_dir():
        msg = f"{out}: exists and is not a folder; -o names the corpus folder"
        raise CorpusError(msg)
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        msg = f"{out}: folder is not empty and is not a corpus; use a new or empty folder"
        raise CorpusError(msg)
    target = out.resolve()
    for name in inputs:
        path = Path(name).expanduser()
        if path.is_dir() and target.is_relative_to(path.resolve()):
            msg = f"{out}: output folder is inside the input folder {name}; put the corpus elsewhere"
            raise CorpusError(msg)


def encode_corpus(
    inputs: list[str],
    out_dir: str | os.PathLike[str],
    *,
    codec: str = "builtin",
    device: str | None = None,
    workers: int = 2,
    address: str | None = None,
    files_per_shard: int = 32,
    max_duration_s: float | None = None,
    progress: Callable[[EncodeProgress], None] | None = None,
) -> EncodeSummary:
    """Encode every utterance named by ``inputs`` into the corpus folder ``out_dir``.

    Parameters
    ----------
    inputs : list of str
        Folders, globs, audio files or manifests (:func:`~.inputs.resolve_inputs`).
    out_dir : str or os.PathLike
        The corpus folder (created; a rerun continues the corpus that is there).
    codec : str
        For :func:`~qtok_widgets.load_codec`; loaded once in the driver (to check it and find
        its silence codes) and once per worker.
    device : str, optional
        Codec device; with ``"cuda..."`` each worker asks Ray for one GPU.
    workers : int
        Worker actors (each one codec); a local Ray gets this many CPUs.
    address : str, optional
        An existing Ray cluster (``"ray://head:10001"`` or ``"auto"``).
    files_per_shard : int
        Utterances per shard: the unit of work, of resumption and of output files.
    max_duration_s : float, optional
        Longest input accepted (default :func:`~qtok_widgets.audio.duration_limit`); a longer
        one lands in the errors table.
    progress : callable, optional
        Called with an :class:`EncodeProgress` after each shard.

    Returns
    -------
    EncodeSummary

    Raises
    ------
    CorpusError
        Bad inputs, an output folder inside an input folder or not a corpus, bad ``workers``,
        an unreachable cluster, or a missing ``[corpus]`` extra.
    """
    require_corpus_extra()
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 4096:
        msg = f"workers must be an integer in 1..4096, got {workers!r}"
        raise CorpusError(msg)
    out = Path(out_dir)
    _check_output(out, inputs)
    utterances = resolve_inputs(inputs)
    from .. import __version__
    from ..codecs import load_codec

    the_codec = load_codec(codec, device=device)
    shards = plan_shards(utterances, _codec_key(the_codec), files_per_shard)
    (out / CODES_DIR).mkdir(parents=True, exist_ok=True)
    (out / ERRORS_DIR).mkdir(parents=True, exist_ok=True)
    wanted = {s.name for s in shards}
    done = {s.name for s in shards if (out / CODES_DIR / f"{s.name}.parquet").is_file()}
    todo = [s for s in shards if s.name not in done]
    manifest = {
        "format": CORPUS_FORMAT,
        "qtok_widgets": __version__,
        "codec": the_codec.name,
        "codec_settings": {k: v for k, v in the_codec.info().items() if k != "device"},
        "codec_arg": str(codec),
        "frame_rate": the_codec.frame_rate,
        "sample_rate": the_codec.sample_rate,
        "n_layers": the_codec.n_layers,
        "codebook_size": the_codec.codebook_size,
        "silence_codes": _silence_codes(the_codec),
        "inputs": [str(i) for i in inputs],
        "files_per_shard": files_per_shard,
        "n_shards": len(shards),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")

    skipped_files = sum(len(s.utterances) for s in shards if s.name in done)
    t0 = time.perf_counter()
    encoded = failed = 0
    audio_s = 0.0
    peaks: dict[str, float] = {}
    if todo:
        encoded, failed, audio_s, peaks = _run(
            todo, the_codec, str(codec), device, out, workers, address, max_duration_s, progress, t0
        )
    elapsed = time.perf_counter() - t0
    removed = _remove_stale(out, wanted)
    manifest.update(_counts(out))
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return EncodeSummary(
        corpus=str(out),
        codec=the_codec.name,
        shards=len(shards),
        skipped_shards=len(done),
        skipped_files=skipped_files,
        encoded=encoded,
        failed=failed,
        audio_s=audio_s,
        elapsed_s=elapsed,
        files_per_s=(encoded + failed) / elapsed if elapsed > 0 else 0.0,
        audio_hours_per_s=audio_s / 3600 / elapsed if elapsed > 0 else 0.0,
        workers=peaks,
        removed_stale=removed,
    )


def _run(
    todo: list[Shard],
    the_codec: Any,
    codec_arg: str,
    device: str | None,
    out: Path,
    workers: int,
    address: str | None,
    max_duration_s: float | None,
    progress: Callable[[EncodeProgress], None] | None,
    t0: float,
) -> tuple[int, int, float, dict[str, float]]:
    items = [{"name": s.name, "spec": json.dumps([u.to_dict() for u in s.utterances])} for s in todo]
    total = sum(len(s.utterances) for s in todo)
    encoded = failed = 0
    audio_s = 0.0
    peaks: dict[str, float] = {}
    # a codec named by path or name travels as that string; the driver's instance stays here
    name = codec_arg if codec_arg else the_codec.name
    with _ray_session(address, workers) as ray:
        import ray.data

        _data_context()
        gpus = 1 if str(device or the_codec.device).startswith("cuda") else 0
        ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            ShardEncoder,
            fn_constructor_args=(name, device, str(out.resolve()), max_duration_s),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(workers, len(items))),
            num_cpus=0 if gpus else 1,
            num_gpus=gpus,
        )
        for row in ds.iter_rows():
            encoded += int(row["n_ok"])
            failed += int(row["n_err"])
            audio_s += float(row["audio_s"])
            peaks[str(row["pid"])] = max(peaks.get(str(row["pid"]), 0.0), float(row["peak_rss_mb"]))
            if progress is not None:
                progress(EncodeProgress(encoded + failed, total, audio_s, time.perf_counter() - t0))
    return encoded, failed, audio_s, peaks


def _remove_stale(out: Path, wanted: set[str]) -> int:
    """Delete shards (and their errors) that the current inputs no longer produce, and temp files."""
    removed = 0
    for folder in (out / CODES_DIR, out / ERRORS_DIR):
        for path in folder.iterdir():
            stem = path.name.split(".", 1)[0]
            if path.name.endswith(".tmp") or stem not in wanted:
                path.unlink(missing_ok=True)
                removed += folder.name == CODES_DIR and path.suffix == ".parquet"
    return removed


def _counts(out: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    n_utt = n_frames = 0
    duration = 0.0
    for path in sorted((out / CODES_DIR).glob("*.parquet")):
        t = pq.read_table(path, columns=["duration_s", "n_frames"])
        n_utt += t.num_rows
        duration += float(np.sum(t.column("duration_s").to_numpy())) if t.num_rows else 0.0
        n_frames += int(np.sum(t.column("n_frames").to_numpy())) if t.num_rows else 0
    n_err = sum(pq.read_metadata(p).num_rows for p in (out / ERRORS_DIR).glob("*.parquet"))
    return {"n_utterances": n_utt, "n_errors": n_err, "n_frames": n_frames, "duration_s": duration}
