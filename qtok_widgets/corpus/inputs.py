"""What a corpus is made of: folders, globs and manifests resolved to a sorted list of utterances.

:func:`resolve_inputs` is the one place an ``INPUTS...`` argument becomes :class:`Utterance`
rows; :func:`plan_shards` groups them into shards whose names follow from their content, so a
rerun over the same inputs finds the same shard names and skips the ones already written.
Pure functions of the file system's listing; nothing here reads audio or imports Ray.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import QtokError

__all__ = [
    "AUDIO_SUFFIXES",
    "MANIFEST_SUFFIXES",
    "CorpusError",
    "Shard",
    "Utterance",
    "plan_shards",
    "resolve_inputs",
]

#: File name endings taken from a folder or a glob (lower case).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".webm")
#: Manifest file endings: one utterance per CSV row or per JSON line.
MANIFEST_SUFFIXES = (".csv", ".jsonl")
#: Manifest columns with a meaning of their own; any other column is kept as metadata.
_PATH_KEYS = ("path", "audio_filepath", "audio_path", "file", "source")


class CorpusError(QtokError):
    """A corpus cannot be built or read: bad inputs, a bad manifest, a missing extra."""


@dataclass(frozen=True)
class Utterance:
    """One input file of a corpus.

    Parameters
    ----------
    id : str
        The manifest's id, else the path relative to its input folder without the suffix.
    path : str
        Absolute path of the audio file.
    speaker, text : str
        From the manifest; empty when it has none.
    meta : dict
        The manifest's other columns, as strings (JSON-encoded into the shard).
    """

    id: str
    path: str
    speaker: str = ""
    text: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "speaker": self.speaker,
            "text": self.text,
            "meta": self.meta,
        }


@dataclass(frozen=True)
class Shard:
    """A group of utterances encoded and written together as one Parquet file.

    ``name`` is ``codes-<index>-<digest>``: the digest covers the codec's identity and each
    utterance's id, path, size and modification time, so a changed file or codec makes a new
    name, and an unchanged one keeps it.
    """

    name: str
    utterances: tuple[Utterance, ...]


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _glob_root(pattern: str) -> Path:
    """The folder a glob's ids are relative to: its leading parts without wildcards."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _is_glob(part):
            break
        fixed.append(part)
    root = Path(*fixed) if fixed else Path(".")
    return root if root.is_dir() else root.parent


def _rel_id(path: Path, root: Path) -> str:
    rel = path.resolve().relative_to(root.resolve())
    return rel.with_suffix("").as_posix()


def _from_folder(folder: Path) -> list[Utterance]:
    files = sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
    )
    return [Utterance(_rel_id(p, folder), str(p.resolve())) for p in files if p.is_file()]


def _from_glob(pattern: str) -> list[Utterance]:
    root = _glob_root(pattern)
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    return [Utterance(_rel_id(p, root), str(p.resolve())) for p in files if p.is_file()]


def _manifest_rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".csv":
        return list(csv.DictReader(text.splitlines()))
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"{path}: line {lineno} is not JSON ({exc.msg}); a manifest has one JSON object per line"
            raise CorpusError(msg) from None
        if not isinstance(row, dict):
            msg = f"{path}: line {lineno} is a {type(row).__name__}; each line must be a JSON object"
            raise CorpusError(msg)
        rows.append(row)
    return rows


def _from_manifest(path: Path) -> list[Utterance]:
    rows = _manifest_rows(path)
    out = []
    for i, row in enumerate(rows, 1):
        key = next((k for k in _PATH_KEYS if row.get(k)), None)
        if key is None:
            msg = (
                f"{path}: row {i} has no path; a manifest needs a column named one of {', '.join(_PATH_KEYS)}"
            )
            raise CorpusError(msg)
        audio = Path(str(row[key])).expanduser()
        if not audio.is_absolute():
            audio = path.parent / audio
        uid = str(row.get("id") or row.get("utt_id") or "") or Path(str(row[key])).with_suffix("").as_posix()
        meta = {
            str(k): v if isinstance(v, str) else json.dumps(v)
            for k, v in row.items()
            if k not in (*_PATH_KEYS, "id", "utt_id", "speaker", "text") and v is not None
        }
        out.append(
            Utterance(
                uid, str(audio.resolve()), str(row.get("speaker") or ""), str(row.get("text") or ""), meta
            )
        )
    return out


def resolve_inputs(inputs: list[str]) -> list[Utterance]:
    """The utterances named by ``inputs``, sorted by id.

    Parameters
    ----------
    inputs : list of str
        Folders (searched recursively for :data:`AUDIO_SUFFIXES`), globs (``"data/**/*.flac"``),
        audio files, or manifests (:data:`MANIFEST_SUFFIXES`; a path column, optional ``id``,
        ``speaker``, ``text``; relative paths are relative to the manifest's folder).

    Returns
    -------
    list of Utterance
        Sorted by id; ids are unique.

    Raises
    ------
    CorpusError
        No inputs, a missing input, an input with no audio in it, or two utterances with one id.
    """
    if not inputs:
        msg = "no inputs: name folders, globs or manifests (.csv/.jsonl) to encode"
        raise CorpusError(msg)
    found: list[Utterance] = []
    for name in inputs:
        path = Path(name).expanduser()
        if path.is_dir():
            got = _from_folder(path)
            if not got:
                msg = f"{name}: folder has no audio files ({', '.join(AUDIO_SUFFIXES)})"
                raise CorpusError(msg)
        elif path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            got = _from_manifest(path)
            if not got:
                msg = f"{name}: manifest has no rows"
                raise CorpusError(msg)
        elif path.is_file():
            got = [Utterance(path.with_suffix("").name, str(path.resolve()))]
        elif _is_glob(name):
            got = _from_glob(name)
            if not got:
                msg = f"{name}: pattern matches no files"
                raise CorpusError(msg)
        else:
            msg = f"{name}: no such file or folder"
            raise CorpusError(msg)
        found.extend(got)
    found.sort(key=lambda u: u.id)
    for a, b in itertools.pairwise(found):
        if a.id == b.id:
            msg = f"two inputs have the id {a.id!r} ({a.path} and {b.path}); give them ids in a manifest"
            raise CorpusError(msg)
    return found


def _stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def plan_shards(utterances: list[Utterance], codec_key: str, files_per_shard: int) -> list[Shard]:
    """Group sorted ``utterances`` into shards of ``files_per_shard`` with content-derived names.

    Parameters
    ----------
    utterances : list of Utterance
        As :func:`resolve_inputs` returns them (sorted by id).
    codec_key : str
        The codec's identity (name and settings); a different codec gives other shard names.
    files_per_shard : int
        Utterances per shard, at least 1.

    Returns
    -------
    list of Shard
    """
    if not isinstance(files_per_shard, int) or files_per_shard < 1:
        msg = f"files_per_shard must be an integer >= 1, got {files_per_shard!r}"
        raise CorpusError(msg)
    shards = []
    for index, start in enumerate(range(0, len(utterances), files_per_shard)):
        group = tuple(utterances[start : start + files_per_shard])
        h = hashlib.sha256(codec_key.encode())
        for u in group:
            h.update(json.dumps([u.to_dict(), _stamp(u.path)], sort_keys=True).encode())
        shards.append(Shard(f"codes-{index:06d}-{h.hexdigest()[:12]}", group))
    return shards
