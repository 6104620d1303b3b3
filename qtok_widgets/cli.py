"""The ``qtok`` command line: encode, decode, round-trip, inspect and edit codes, open the lab.

A thin layer over the library: every command calls :func:`~qtok_widgets.load_audio`,
:func:`~qtok_widgets.load_codec`, :class:`~qtok_widgets.CodeGrid`,
:mod:`~qtok_widgets.metrics` or :class:`~qtok_widgets.EditSession` and prints what it got, in
the style of the Qwen tokenizer's web service (codes shape ``[16, N]``, duration, device, the
first and last codes of each layer, reconstruction quality, timings). ``--json`` prints exactly
one JSON object on stdout instead; progress and log lines go to stderr. User errors (a missing
file, bad codes, a bad recipe, an unknown codec) exit with status 2 and one line
``qtok: error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from .errors import QtokError

__all__ = ["build_parser", "main"]

log = logging.getLogger("qtok_widgets")

_AUDIO_FORMATS = (".wav", ".flac", ".ogg")
_PREVIEW = 5


class UsageError(QtokError):
    """A command line that names something impossible (bad output suffix, clashing names)."""


# ---------------------------------------------------------------------------- output helpers
class _Reporter:
    """Where a command's words go: text on stdout, or one JSON object; progress on stderr."""

    def __init__(self, *, as_json: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet

    def say(self, line: str = "") -> None:
        """Print one line of the text report on stdout, as soon as it is known (not with ``--json``)."""
        if not self.as_json:
            try:
                print(line, flush=True)
            except UnicodeEncodeError:
                # a file name with bytes that are not valid in the output's encoding (they reach
                # us as surrogate escapes): show them as \\udcXX rather than fail after the work
                encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
                print(line.encode(encoding, "backslashreplace").decode(encoding), flush=True)

    def progress(self, label: str):
        """A ``progress(done, total)`` callback writing percentages to stderr, or None."""
        if self.as_json or self.quiet:
            return None
        tty = sys.stderr.isatty()
        state = {"last": -1}

        def report(done: int, total: int) -> None:
            pct = int(100 * done / total) if total else 100
            if tty:
                end = "\n" if done >= total else ""
                print(f"\r{label}: {pct:3d}%", end=end, file=sys.stderr, flush=True)
            elif pct // 25 > state["last"]:
                state["last"] = pct // 25
                print(f"{label}: {pct}%", file=sys.stderr, flush=True)

        return report

    def finish(self, result: dict[str, Any]) -> None:
        """With ``--json``, print the command's result as one JSON object on one line."""
        if self.as_json:
            sys.stdout.write(json.dumps(_jsonable(result), separators=(", ", ": ")) + "\n")
        sys.stdout.flush()


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, non-finite floats as null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _fmt_db(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "inf dB" if value > 0 else "-inf dB"
    return f"{value:.2f} dB"


def _fmt_opt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _say_preview(out: _Reporter, preview: dict[str, list[list[int]]]) -> None:
    """One line per layer: ``layer  0: [first codes, ..., last codes]``."""
    first, last = preview["first"], preview["last"]
    n_layers = len(first)
    width = len(str(n_layers - 1))
    for layer in range(n_layers):
        head = ", ".join(str(c) for c in first[layer])
        tail = ", ".join(str(c) for c in last[layer])
        out.say(f"  layer {layer:>{width}}: [{head}, ..., {tail}]")


# ---------------------------------------------------------------------------- shared steps
def _load_codec(args: argparse.Namespace):
    """The codec to encode with: ``--codec``, with ``--layers K`` as ``load_codec(n_layers=K)``."""
    from .codecs import load_codec

    layers = getattr(args, "layers", None)
    if layers is None:
        return load_codec(args.codec, device=args.device)
    try:
        k = int(layers)
    except ValueError:
        msg = f"--layers takes a whole number of layers, got {layers!r}"
        raise UsageError(msg) from None
    # the codec names its valid choices for a K it cannot run with
    return load_codec(args.codec, device=args.device, n_layers=k)


def _codec_for_grid(args: argparse.Namespace, grid: Any):
    """The codec named by ``--codec``, else the one the grid records (by name)."""
    from .codecs import load_codec
    from .errors import CodecError

    if args.codec is not None:
        codec = load_codec(args.codec, device=args.device)
    else:
        try:
            codec = load_codec(grid.codec, device=args.device)
        except CodecError as exc:
            msg = f"codes were made by codec {grid.codec!r}, which could not be loaded ({exc}); pass --codec NAME|PATH"
            raise CodecError(msg) from None
    codec.check_grid(grid)
    return codec


def _load_grid(path: str):
    from .grid import CodeGrid

    return CodeGrid.load(path)


def _check_suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        msg = f"{path}: cannot write {what} as {suffix or '(no suffix)'!r}; use one of {', '.join(allowed)}"
        raise UsageError(msg)
    return suffix


def _check_output_file(path: Path, allowed: tuple[str, ...], what: str) -> str:
    """The suffix of ``path`` once it is known to be writable as a file in an existing folder.

    Checked before any work, so a typo in ``-o`` costs nothing and reads as one line.
    """
    suffix = _check_suffix(path, allowed, what)
    if path.is_dir():
        msg = f"{path}: is a folder; -o needs a file name ending in one of {', '.join(allowed)}"
        raise UsageError(msg)
    folder = path.parent
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        msg = f"{path}: cannot write there, folder {folder} {state}"
        raise UsageError(msg)
    return suffix


def _output_targets(
    inputs: list[str], output: str | None, allowed: tuple[str, ...], ext: str, what: str
) -> list[Path | None]:
    """Where each input's result goes: ``-o FILE`` for one input, ``-o FOLDER/<stem><ext>`` else.

    One input and an ``-o`` with a suffix is a file (the suffix must be in ``allowed``); an
    existing folder, a name without a suffix or several inputs make ``-o`` a folder.
    """
    if output is None:
        return [None] * len(inputs)
    out = Path(output)
    suffix = out.suffix.lower()
    if len(inputs) == 1 and not out.is_dir() and suffix != "" and not output.endswith(os.sep):
        _check_suffix(out, allowed, what)
        return [out]
    if out.exists() and not out.is_dir():
        msg = f"{out}: -o must be a folder when writing {len(inputs)} outputs"
        raise UsageError(msg)
    targets: list[Path | None] = [out / (Path(name).stem + ext) for name in inputs]
    seen: dict[Path, str] = {}
    for name, target in zip(inputs, targets, strict=True):
        assert target is not None
        if target in seen:
            msg = f"{name} and {seen[target]} would both be written to {target}; run them separately"
            raise UsageError(msg)
        seen[target] = name
    return targets


def _check_inputs(inputs: list[str]) -> None:
    """Fail on a missing input before any work is done."""
    for name in inputs:
        if not name.startswith(("http://", "https://")) and not Path(name).exists():
            msg = f"{name}: no such file"
            raise UsageError(msg)


def _merge(files: list[dict[str, Any]], codec: Any) -> dict[str, Any]:
    """One JSON object: one input's fields, or ``files`` (a list of them) for several; plus codec, device."""
    head = {"codec": codec.name, "device": codec.device}
    return {**head, **files[0]} if len(files) == 1 else {**head, "files": files}


def _peak_gpu_mb(device: str) -> float | None:
    if not str(device).startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20


def _reset_gpu_peak(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(torch.device(device))


# ---------------------------------------------------------------------------- commands
def cmd_encode(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok encode IN... [-o OUT]``."""
    from .audio import load_audio
    from .grid_io import CODES_SUFFIXES
    from .stats import code_preview

    ext = "." + (args.format or "pt")
    targets = _output_targets(args.inputs, args.output, CODES_SUFFIXES, ext, "codes")
    if args.format is not None and targets[0] is not None and targets[0].suffix.lower() != "." + args.format:
        msg = f"--format {args.format} does not match the suffix of -o {targets[0]}"
        raise UsageError(msg)
    _check_inputs(args.inputs)
    codec = _load_codec(args)
    files = []
    for name, target in zip(args.inputs, targets, strict=True):
        audio = load_audio(name)
        t0 = time.perf_counter()
        grid = codec.encode(audio, progress=out.progress(f"encoding {name}"))
        encode_s = time.perf_counter() - t0
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            grid.save(target)
        preview = code_preview(grid, _PREVIEW)
        files.append(
            {
                "input": name,
                "output": target,
                "shape": list(grid.shape),
                "duration_s": grid.duration,
                "input_sample_rate": audio.sample_rate,
                "encode_s": encode_s,
                "first_codes": preview["first"],
                "last_codes": preview["last"],
            }
        )
        out.say(f"{name}" + (f" -> {target}" if target is not None else ""))
        out.say(f"  codes shape: [{grid.n_layers}, {grid.n_frames}]")
        out.say(
            f"  duration:    {grid.duration:.2f} s ({grid.frame_rate:g} frames/s, input {audio.sample_rate} Hz)"
        )
        out.say(f"  device:      {codec.device} ({codec.name})")
        out.say(f"  encode time: {encode_s:.2f} s")
        out.say(f"  first and last {_PREVIEW} codes of each layer:")
        _say_preview(out, preview)
    return _merge(files, codec)


def cmd_decode(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok decode CODES -o OUT.wav``."""
    target = Path(args.output)
    _check_output_file(target, _AUDIO_FORMATS, "audio")
    grid = _load_grid(args.codes)
    codec = _codec_for_grid(args, grid)
    _reset_gpu_peak(codec.device)
    t0 = time.perf_counter()
    audio = codec.decode(grid)
    decode_s = time.perf_counter() - t0
    audio.save(target)
    out.say(f"{args.codes} -> {target}")
    out.say(f"  codes shape: [{grid.n_layers}, {grid.n_frames}] ({grid.n_masked} masked cells)")
    out.say(f"  sample rate: {audio.sample_rate} Hz")
    out.say(f"  duration:    {audio.duration:.2f} s")
    out.say(f"  device:      {codec.device} ({codec.name})")
    out.say(f"  decode time: {decode_s:.2f} s")
    return {
        "input": args.codes,
        "output": target,
        "codec": codec.name,
        "device": codec.device,
        "shape": list(grid.shape),
        "sample_rate": audio.sample_rate,
        "duration_s": audio.duration,
        "decode_s": decode_s,
        "peak_gpu_mb": _peak_gpu_mb(codec.device),
    }


def cmd_roundtrip(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok roundtrip IN... [-o OUT]``: encode, decode and measure each input."""
    targets = _output_targets(args.inputs, args.output, _AUDIO_FORMATS, ".wav", "audio")
    _check_inputs(args.inputs)
    codec = _load_codec(args)
    files = [
        _roundtrip_one(name, target, codec, out, with_pesq=not args.no_pesq)
        for name, target in zip(args.inputs, targets, strict=True)
    ]
    return _merge(files, codec)


def _encoding_half(report: Any) -> Any:
    """:func:`~qtok_widgets.roundtrip.roundtrip` reports encoding as the first half of its
    progress and decoding as the second; show the first half as 0..100 % (once)."""
    if report is None:
        return None
    state = {"finished": False}

    def half(done: int, total: int) -> None:
        if state["finished"] or total <= 0:
            return
        done = min(total, 2 * done)
        state["finished"] = done >= total
        report(done, total)

    return half


def _roundtrip_one(
    name: str, target: Path | None, codec: Any, out: _Reporter, *, with_pesq: bool
) -> dict[str, Any]:
    from .roundtrip import roundtrip

    _reset_gpu_peak(codec.device)
    rt = roundtrip(
        codec, name, progress=_encoding_half(out.progress(f"encoding {name}")), with_pesq=with_pesq
    )
    peak = _peak_gpu_mb(codec.device)
    audio, grid, decoded, quality = rt.original, rt.grid, rt.reconstructed, rt.metrics
    encode_s, decode_s = rt.encode_s, rt.decode_s
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        decoded.save(target)
    out.say(f"{name}" + (f" -> {target}" if target is not None else ""))
    out.say(f"  codes shape:     [{grid.n_layers}, {grid.n_frames}]")
    out.say(f"  input duration:  {audio.duration:.2f} s ({audio.sample_rate} Hz)")
    out.say(f"  output duration: {decoded.duration:.2f} s ({decoded.sample_rate} Hz)")
    out.say(f"  device:          {codec.device} ({codec.name})")
    out.say(f"  encode time:     {encode_s:.2f} s")
    out.say(f"  decode time:     {decode_s:.2f} s")
    if peak is not None:
        out.say(f"  peak GPU memory: {peak:.0f} MB")
    out.say(f"  quality, at {quality['sample_rate']} Hz:")
    out.say(
        f"    SNR:                     {_fmt_db(quality['snr_db'])} "
        f"(aligned {_fmt_db(quality['snr_aligned_db'])}, lag {quality['lag_ms']:+.2f} ms)"
    )
    out.say(f"    log-spectral distance:   {quality['lsd_db']:.2f} dB (lower is better)")
    out.say(f"    mel-cepstral distortion: {quality['mcd_db']:.2f} dB (lower is better)")
    out.say(f"    STOI:                    {_fmt_opt(quality['stoi'])} (0..1, higher is better)")
    if with_pesq:
        out.say(
            f"    PESQ-WB:                 {_fmt_opt(quality['pesq_wb'], '.2f')} (1..4.64, higher is better)"
        )
    for note in quality["notes"]:
        out.say(f"    note: {note}")
    out.say("  (waveform SNR ignores that a codec may resynthesise phase; judge by LSD/MCD/STOI too)")
    return {
        "input": name,
        "output": target,
        "shape": list(grid.shape),
        "duration_s": audio.duration,
        "input_sample_rate": audio.sample_rate,
        "output_duration_s": decoded.duration,
        "output_sample_rate": decoded.sample_rate,
        "encode_s": encode_s,
        "decode_s": decode_s,
        "peak_gpu_mb": peak,
        "metrics_sample_rate": quality["sample_rate"],
        "snr_db": quality["snr_db"],
        "snr_aligned_db": quality["snr_aligned_db"],
        "lag_ms": quality["lag_ms"],
        "lsd_db": quality["lsd_db"],
        "mcd_db": quality["mcd_db"],
        "stoi": quality["stoi"],
        "pesq_wb": quality["pesq_wb"],
        "metric_notes": quality["notes"],
    }


def cmd_info(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok info CODES``."""
    from .stats import layer_usage

    grid = _load_grid(args.codes)
    fits = None
    if args.codec is not None:
        _codec_for_grid(args, grid)  # raises when the grid does not fit
        fits = args.codec
    usage = layer_usage(grid)
    cells = grid.n_layers * grid.n_frames
    out.say(f"{args.codes}")
    out.say(f"  codec:        {grid.codec}" + (f" (fits --codec {fits})" if fits else ""))
    out.say(f"  codes shape:  [{grid.n_layers}, {grid.n_frames}]")
    out.say(f"  duration:     {grid.duration:.2f} s ({grid.n_samples} samples at {grid.sample_rate} Hz)")
    out.say(f"  frame rate:   {grid.frame_rate:g} Hz ({grid.samples_per_frame} samples per frame)")
    out.say(
        f"  bitrate:      {grid.bitrate:.0f} bit/s "
        f"({grid.n_layers} layers x {math.log2(grid.codebook_size):g} bits x {grid.frame_rate:g} Hz)"
    )
    out.say(f"  masked cells: {grid.n_masked} of {cells}")
    out.say(f"  code usage per layer (of {grid.codebook_size} codes):")
    out.say("    layer  distinct  entropy (bits)  masked")
    for row in usage:
        out.say(
            f"    {row['layer']:>5}  {row['distinct']:>8}  {row['entropy_bits']:>14.2f}  {row['masked']:>6}"
        )
    return {
        "input": args.codes,
        **grid.metadata(),
        "shape": list(grid.shape),
        "duration_s": grid.duration,
        "bitrate_bps": grid.bitrate,
        "n_masked": grid.n_masked,
        "layers": usage,
    }


def cmd_codecs(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok codecs``: the backends, and the models usable offline with their shapes."""
    from .codecs import backends, cached_models

    found = backends()
    models = cached_models()
    out.say("backends:")
    for backend in found.values():
        out.say(
            f"  {backend.name:<9} {backend.target}"
            + ("" if backend.source == "qtok_widgets" else f"  (from {backend.source})")
        )
    out.say("models available offline:")
    out.say(f"  {'backend':<9} {'model':<36} {'rate Hz':>7} {'frames/s':>8} {'layers':>6} {'codebook':>8}")
    for row in models:
        frame_rate = row.get("frame_rate")
        out.say(
            f"  {row['backend']!s:<9} {row['model']!s:<36} {row.get('sample_rate', '?')!s:>7} "
            f"{(f'{frame_rate:g}' if isinstance(frame_rate, float) else '?'):>8} "
            f"{row.get('n_layers', '?')!s:>6} {row.get('codebook_size', '?')!s:>8}"
        )
    return {
        "backends": [{"name": b.name, "target": b.target, "source": b.source} for b in found.values()],
        "models": models,
    }


def _read_recipe(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such recipe file" if not p.exists() else f"{p}: recipe must be a file"
        raise UsageError(msg)
    text = p.read_text(encoding="utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{p}: recipe is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        raise UsageError(msg) from None
    return text


def cmd_edit(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok edit CODES --recipe RECIPE.json -o OUT``."""
    target = Path(args.output)
    from .grid_io import CODES_SUFFIXES

    suffix = _check_output_file(target, CODES_SUFFIXES + _AUDIO_FORMATS, "an edit")
    recipe = _read_recipe(args.recipe)
    grid = _load_grid(args.codes)
    codec = _codec_for_grid(args, grid)
    from .session import EditSession

    t0 = time.perf_counter()
    try:
        session = EditSession.from_json(recipe, grid, codec)
    except QtokError as exc:
        msg = f"{args.recipe}: {exc}"
        raise type(exc)(msg) from None
    edited = session.grid
    if suffix in _AUDIO_FORMATS:
        audio = session.render()
        audio.save(target)
        what = f"audio, {audio.duration:.2f} s at {audio.sample_rate} Hz"
    else:
        edited.save(target)
        what = "codes"
    elapsed = time.perf_counter() - t0
    out.say(f"{args.codes} + {args.recipe} -> {target} ({what})")
    out.say(f"  codes shape:  [{grid.n_layers}, {grid.n_frames}] -> [{edited.n_layers}, {edited.n_frames}]")
    out.say(f"  masked cells: {grid.n_masked} -> {edited.n_masked}")
    out.say(f"  duration:     {grid.duration:.2f} s -> {edited.duration:.2f} s")
    out.say(f"  time:         {elapsed:.2f} s")
    return {
        "input": args.codes,
        "recipe": args.recipe,
        "output": target,
        "codec": codec.name,
        "device": codec.device,
        "shape_before": list(grid.shape),
        "shape": list(edited.shape),
        "n_masked": edited.n_masked,
        "duration_s": edited.duration,
        "elapsed_s": elapsed,
    }


def find_quickstart() -> Path | None:
    """``notebooks/01_quickstart.ipynb`` next to the package (a source checkout) or inside it."""
    here = Path(__file__).resolve().parent
    for candidate in (
        here.parent / "notebooks" / "01_quickstart.ipynb",
        here / "notebooks" / "01_quickstart.ipynb",
    ):
        if candidate.is_file():
            return candidate
    return None


def lab_command(notebook: Path | None, *, no_browser: bool, extra: list[str]) -> list[str]:
    """The JupyterLab command line that opens ``notebook`` (or the lab's start page)."""
    # enable the qtok server extension even where the package's jupyter-config was not
    # installed (editable installs); the other enabled extensions are kept
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.jpserver_extensions=qtok_widgets=True"]
    if notebook is not None:
        notebook = notebook.resolve()
        cwd = Path.cwd().resolve()
        root = cwd if notebook.is_relative_to(cwd) else notebook.parent
        rel = notebook.relative_to(root).as_posix()
        cmd += [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{rel}"]
    if no_browser:
        cmd.append("--no-browser")
    return cmd + list(extra)


def cmd_lab(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok lab [NOTEBOOK] [--no-browser] [-- JUPYTER ARGS...]``."""
    if args.notebook is not None:
        notebook: Path | None = Path(args.notebook)
        if not notebook.is_file():  # type: ignore[union-attr]  # just set
            msg = f"{notebook}: no such notebook"
            raise UsageError(msg)
    else:
        notebook = find_quickstart()
    env = {"QTOK_CODEC": args.codec, "QTOK_DEVICE": args.device}
    env = {key: value for key, value in env.items() if value}
    extra = list(args.extra)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        # JupyterLab exits 1 as root without it, and root is the usual user in containers
        extra.insert(0, "--allow-root")
        if not args.quiet:
            print("qtok: running as root, so JupyterLab gets --allow-root", file=sys.stderr, flush=True)
    cmd = lab_command(notebook, no_browser=args.no_browser, extra=extra)
    result = {"command": cmd, "notebook": notebook, "env": env}
    if args.dry_run:
        out.say(" ".join(cmd))
        return result
    if not args.quiet:
        print("qtok: " + " ".join(cmd), file=sys.stderr, flush=True)
    os.environ.update(env)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(sys.executable, cmd)
    import subprocess

    raise SystemExit(subprocess.call(cmd))


def _corpus_progress(out: _Reporter):
    """A progress callback for ``qtok corpus encode``: files, files/s and audio hours/s on stderr."""
    if out.as_json or out.quiet:
        return None
    tty = sys.stderr.isatty()

    def report(p: Any) -> None:
        line = (
            f"encoded {p.files_done}/{p.files_total} files, {p.files_per_s:.2f} files/s, "
            f"{p.audio_hours_per_s:.5f} audio h/s ({p.audio_s / max(p.elapsed_s, 1e-9):.2f}x real time)"
        )
        end = "\n" if not tty or p.files_done >= p.files_total else ""
        print(("\r" if tty else "") + line, end=end, file=sys.stderr, flush=True)

    return report


def cmd_corpus_encode(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok corpus encode INPUTS... -o CORPUS_DIR``: encode a corpus on Ray Data."""
    from .corpus.encode import encode_corpus, require_corpus_extra

    require_corpus_extra()
    if args.codec is None:
        from .codecs import default_codec_name

        codec = default_codec_name()[0]
    else:
        codec = args.codec
    summary = encode_corpus(
        args.inputs,
        args.output,
        codec=codec,
        device=args.device,
        workers=args.workers,
        address=args.address,
        files_per_shard=args.files_per_shard,
        progress=_corpus_progress(out),
    ).to_dict()
    out.say(f"{summary['corpus']}: codec {summary['codec']}, {summary['shards']} shards")
    out.say(
        f"  encoded {summary['encoded']} files, failed {summary['failed']} (see errors/), "
        f"skipped {summary['skipped_files']} already done ({summary['skipped_shards']} shards)"
    )
    out.say(
        f"  {summary['audio_s'] / 3600:.4f} h of audio in {summary['elapsed_s']:.1f} s: "
        f"{summary['files_per_s']:.2f} files/s, {summary['audio_hours_per_s']:.5f} audio h/s"
    )
    for worker, mb in sorted(summary["workers"].items()):
        out.say(f"  worker {worker}: peak {mb:.0f} MB")
    return summary


def cmd_corpus_stats(args: argparse.Namespace, out: _Reporter) -> dict[str, Any]:
    """``qtok corpus stats CORPUS_DIR``: token statistics computed with DuckDB."""
    from .corpus.encode import require_corpus_extra

    require_corpus_extra("duckdb", "pyarrow")
    from .corpus.query import corpus_stats

    stats = corpus_stats(args.corpus, top=args.top)
    out.say(
        f"{stats['corpus']}: {stats['n_utterances']} utterances, {stats['duration_s'] / 3600:.3f} h, "
        f"{stats['n_frames']} frames, codec {stats['codec']} ({stats['n_layers']} x {stats['codebook_size']} codes)"
    )
    out.say("  layer  used  unused  entropy  perplexity  silence  mean run  MI(layer 0)  top bigram (count)")
    for row in stats["layers"]:
        mi = "-" if row["mi_layer0_bits"] is None else f"{row['mi_layer0_bits']:.3f}"
        bi = row["top_ngrams"]["2"]
        top = f"{bi[0]['codes']} ({bi[0]['count']})" if bi else "-"
        out.say(
            f"  {row['layer']:>5}  {row['used']:>4}  {row['unused']:>6}  {row['entropy_bits']:>7.3f}  "
            f"{row['perplexity']:>10.1f}  {row['silence_fraction']:>7.1%}  {row['runs']['mean_frames']:>8.2f}  "
            f"{mi:>11}  {top}"
        )
    return stats


# ---------------------------------------------------------------------------- parser
def _common_options(*, defaults: bool) -> argparse.ArgumentParser:
    """``--codec --device --json -q``. The top-level parser holds the defaults; each command's
    copy leaves an option unset unless given, so ``qtok -q encode ...`` and ``qtok encode -q ...``
    mean the same."""
    common = argparse.ArgumentParser(add_help=False)

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    common.add_argument(
        "--codec",
        metavar="NAME|PATH",
        default=default(None),
        help="builtin, qwen, server, or a checkpoint folder (default: $QTOK_CODEC, a local Qwen "
        "checkpoint, else builtin; decode/edit default to the codec recorded in the codes)",
    )
    common.add_argument(
        "--device", default=default(None), help="cpu, cuda, cuda:1 ... (default: the codec's choice)"
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print exactly one JSON object on stdout (logs go to stderr)",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default(False),
        help="no progress or log lines on stderr",
    )
    return common


def _add_layers_option(p: argparse.ArgumentParser) -> None:
    """``--layers K`` of the commands that encode (read by :func:`_load_codec`)."""
    p.add_argument(
        "--layers",
        metavar="K",
        help="encode with the first K quantizer layers, for codecs that can run with fewer (DAC, "
        "Mimi, EnCodec and X-Codec bandwidths; an invalid K names the choices); default all",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``qtok`` argument parser (every command takes ``--codec --device --json -q``, before or
    after the command name)."""
    common = _common_options(defaults=False)
    parser = argparse.ArgumentParser(
        prog="qtok",
        description="Encode speech to codec tokens, decode them, measure round trips, inspect and edit codes.",
        parents=[_common_options(defaults=True)],
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"qtok_widgets {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from .grid_io import CODES_SUFFIXES

    codes = "/".join(CODES_SUFFIXES)  # ".pt/.npz/.json"
    p = sub.add_parser("encode", parents=[common], help=f"audio -> codes ({codes})")
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files or http(s) URLs")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help=f"codes file ({codes}) for one input; a folder for several (one file per input)",
    )
    p.add_argument(
        "--format",
        choices=tuple(suffix.lstrip(".") for suffix in CODES_SUFFIXES),
        help="format of the files written into a folder (default pt)",
    )
    _add_layers_option(p)
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", parents=[common], help="codes -> audio")
    p.add_argument("codes", metavar="CODES", help=f"codes file ({codes})")
    p.add_argument("-o", "--output", required=True, metavar="OUT.wav", help="audio file (.wav/.flac/.ogg)")
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("roundtrip", parents=[common], help="encode + decode, with quality measures")
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files or http(s) URLs")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="decoded audio (.wav/.flac/.ogg) for one input; a folder for several (<stem>.wav each)",
    )
    p.add_argument("--no-pesq", action="store_true", help="skip PESQ-WB (about 2 s per minute of audio)")
    _add_layers_option(p)
    p.set_defaults(func=cmd_roundtrip)

    p = sub.add_parser("info", parents=[common], help="shape, duration, bitrate, mask and code usage")
    p.add_argument("codes", metavar="CODES", help=f"codes file ({codes})")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("edit", parents=[common], help="apply an edit recipe to codes")
    p.add_argument("codes", metavar="CODES", help=f"codes file ({codes})")
    p.add_argument(
        "--recipe", required=True, metavar="RECIPE.json", help="edit recipe saved by an EditSession"
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help=f"edited codes ({codes}) or audio (.wav)"
    )
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("codecs", parents=[common], help="codec backends and the models cached locally")
    p.set_defaults(func=cmd_codecs)

    p = sub.add_parser(
        "corpus", help="encode a corpus on Ray and query its token statistics (needs the [corpus] extra)"
    )
    corpus_sub = p.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND", required=True)
    q = corpus_sub.add_parser(
        "encode",
        parents=[common],
        help="encode folders, globs or manifests into Parquet shards (resumable)",
        description="Encode audio into a corpus folder of Parquet shards with Ray Data; a rerun skips "
        "shards already written. See docs/corpus.md.",
    )
    q.add_argument(
        "inputs", nargs="+", metavar="INPUTS", help="folders, globs, audio files or .csv/.jsonl manifests"
    )
    q.add_argument(
        "-o", "--output", required=True, metavar="CORPUS_DIR", help="corpus folder (new, or one to continue)"
    )
    q.add_argument(
        "--workers",
        type=int,
        default=2,
        help="codec worker actors (a local Ray gets this many CPUs; default 2)",
    )
    q.add_argument(
        "--address",
        default=None,
        help="an existing Ray cluster (ray://HOST:10001 or auto; default: a local Ray)",
    )
    q.add_argument(
        "--files-per-shard",
        type=int,
        default=32,
        metavar="N",
        help="utterances per Parquet shard and unit of work (default 32)",
    )
    q.set_defaults(func=cmd_corpus_encode)
    q = corpus_sub.add_parser(
        "stats", parents=[common], help="per-layer usage, entropy, runs, n-grams, mutual information (DuckDB)"
    )
    q.add_argument("corpus", metavar="CORPUS_DIR", help="a folder written by qtok corpus encode")
    q.add_argument("--top", type=int, default=10, help="n-grams kept per layer and n (default 10)")
    q.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser(
        "lab",
        parents=[common],
        help="open JupyterLab on a notebook (default: the quickstart)",
        description="Start JupyterLab on NOTEBOOK (default: notebooks/01_quickstart.ipynb when present). "
        "Arguments after -- go to JupyterLab, e.g. qtok lab -- --port 9999.",
    )
    p.add_argument("notebook", nargs="?", metavar="NOTEBOOK", help="notebook to open")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--dry-run", action="store_true", help="print the JupyterLab command instead of running it"
    )
    p.set_defaults(func=cmd_lab)
    return parser


def _setup_logging(quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers = [handler]
    log.setLevel(level)
    log.propagate = False

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if not quiet:
            print(f"qtok: warning: {message}", file=sys.stderr)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Run ``qtok`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    0 on success, 2 for a user error (one ``qtok: error: ...`` line on stderr), 130 when
    interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if argv and argv[0] == "lab" and "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    args.extra = extra
    _setup_logging(args.quiet)
    out = _Reporter(as_json=args.json, quiet=args.quiet)
    try:
        result = args.func(args, out)
    except QtokError as exc:
        return _fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        print("qtok: interrupted", file=sys.stderr)
        return 130
    out.finish(result)
    return 0


def _fail(message: str) -> int:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    print(f"qtok: error: {lines[0] if lines else 'failed'}", file=sys.stderr)
    return 2
