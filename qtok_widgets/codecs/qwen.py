"""The Qwen3-TTS-Tokenizer-12Hz backend: 24 kHz speech <-> 16 layers of codes at 12.5 Hz.

:class:`QwenCodec` wraps the qwen-tts 12 Hz tokenizer (a Mimi-style causal encoder and a
causal transformer + convolutional decoder). It encodes through the library's own
``Qwen3TTSTokenizerV2Model.encode``, in overlapping windows for long inputs so memory stays
bounded. It decodes the library's 300-frame chunks (each with its 25 frames of left context)
with the library's decoder modules run a few frames at a time with cached causal state
(:mod:`qtok_widgets.codecs.qwen_stream`), the per-layer code embeddings summed here so masked
cells can be left out; any run of chunks, or any part of a chunk from a stored state, can then
be re-decoded alone, bit-identical to a full decode. :meth:`QwenCodec.library_decode` is
qwen-tts's own one-call-per-chunk decode, which differs from it by float rounding (at most
about 4e-5 on the released architecture, docs/qwen_backend.md). :func:`find_local_checkpoint`
finds an already-downloaded checkpoint without touching the network. Seeded random
checkpoints for tests and benchmarks are built by :mod:`qtok_widgets.codecs.qwen_random`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CodecError
from . import QWEN_HUB_ID, is_hub_id
from .base import Codec, ProgressCallback

__all__ = ["QwenCheckpoints", "QwenCodec", "RedecodeReport", "find_local_checkpoint"]

_MODEL_TYPE = "qwen3_tts_tokenizer_12hz"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")

#: Frames per decode chunk and frames of left context per chunk, as in qwen-tts 0.1.1
#: ``Qwen3TTSTokenizerV2Decoder.chunked_decode(codes, chunk_size=300, left_context_size=25)``.
DECODE_CHUNK_FRAMES = 300
DECODE_CONTEXT_FRAMES = 25
#: Frames the streaming decoder takes per step: :meth:`QwenCodec.decode` steps each chunk's
#: stream this many frames at a time (its output depends on it, at the rounding level), and
#: checkpoints fall on multiples of it.
STREAM_STEP_FRAMES = 5
#: Default frames between checkpoints of one chunk's stream.
CHECKPOINT_INTERVAL_FRAMES = 5


# ---------------------------------------------------------------------------------- checkpoints
def find_local_checkpoint() -> Path | None:
    """Directory of an already-downloaded ``Qwen/Qwen3-TTS-Tokenizer-12Hz``, or None.

    Looks in the Hugging Face cache only (``HF_HOME`` / ``HF_HUB_CACHE``); never touches the
    network and returns quickly when nothing is there.

    Returns
    -------
    pathlib.Path or None
        The snapshot directory holding ``config.json`` and the weights.
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(QWEN_HUB_ID, "config.json")
    except (OSError, ValueError):
        return None
    if not isinstance(found, str):
        return None
    folder = Path(found).parent
    if not any((folder / name).exists() for name in _WEIGHT_FILES):
        return None
    return folder


def _resolve_checkpoint(path: str | os.PathLike[str] | None) -> Path:
    """Turn ``path`` (None, a hub id or a directory) into a local checkpoint directory."""
    text = QWEN_HUB_ID if path is None else os.fspath(path)
    if is_hub_id(text):
        return _from_cache(text)
    folder = Path(text).expanduser()
    if not folder.is_dir():
        msg = f"{text}: no such checkpoint directory (pass a folder with config.json and model.safetensors, or 'qwen' for {QWEN_HUB_ID})"
        raise CodecError(msg)
    if not (folder / "config.json").is_file() and (folder / "speech_tokenizer" / "config.json").is_file():
        folder = folder / "speech_tokenizer"  # a Qwen3-TTS model folder holds the tokenizer here
    config = folder / "config.json"
    if not config.is_file():
        msg = f"{folder}: no config.json; expected a Qwen3-TTS-Tokenizer-12Hz checkpoint (config.json + model.safetensors)"
        raise CodecError(msg)
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        model_type = None
    if model_type != _MODEL_TYPE:
        msg = f"{config}: model_type is {model_type!r}, expected {_MODEL_TYPE!r} (a Qwen3-TTS-Tokenizer-12Hz checkpoint)"
        raise CodecError(msg)
    if not any((folder / name).exists() for name in _WEIGHT_FILES):
        msg = f"{folder}: no weights; expected one of {', '.join(_WEIGHT_FILES)}"
        raise CodecError(msg)
    return folder


def _from_cache(repo_id: str) -> Path:
    hint = (
        f"checkpoint {repo_id} is not available offline: run `huggingface-cli download {repo_id}` "
        "on a networked machine (and copy its ~/.cache/huggingface here), or pass the local checkpoint "
        "directory to load_codec()"
    )
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise CodecError(hint) from None
    try:
        folder = snapshot_download(repo_id, local_files_only=True)
    except (LocalEntryNotFoundError, OSError, ValueError):
        raise CodecError(hint) from None
    return _resolve_checkpoint(folder)


def _load_model(folder: Path, device: str) -> Any:
    """Build ``Qwen3TTSTokenizerV2Model`` from a local folder, as qwen-tts's loader does, offline."""
    import torch
    from transformers import AutoConfig, AutoModel

    from ._qwen_import import import_tokenizer_12hz

    config_mod, modeling_mod = import_tokenizer_12hz()
    AutoConfig.register(_MODEL_TYPE, config_mod.Qwen3TTSTokenizerV2Config, exist_ok=True)
    AutoModel.register(
        config_mod.Qwen3TTSTokenizerV2Config, modeling_mod.Qwen3TTSTokenizerV2Model, exist_ok=True
    )
    try:
        model = AutoModel.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        first = str(exc).strip().splitlines()
        msg = f"{folder}: could not load the Qwen checkpoint ({first[0] if first else type(exc).__name__})"
        raise CodecError(msg) from None
    return model.to(device).eval()


# ---------------------------------------------------------------------------------- checkpointed decoding
@dataclass
class QwenCheckpoints:
    """Streaming decoder states kept every ``interval`` frames of each decode chunk's stream.

    Made by :meth:`QwenCodec.decode_checkpointed` and updated in place by
    :meth:`QwenCodec.redecode`; the renderer holds it next to the samples it describes.

    Attributes
    ----------
    interval : int
        Frames between checkpoints of one chunk's stream (a multiple of the step).
    n_frames : int
        Frames of the grid the checkpoints describe.
    states : dict of int to dict of int to StateSnapshot
        ``states[chunk_start][offset]``: the state after ``offset`` frames of the stream that
        starts at ``chunk_start - context``; offset 0 (the empty state) is always there.
        Consecutive snapshots share their keys and values (:class:`~.qwen_stream.StateSnapshot`).
    residual : numpy.ndarray
        float32, shape ``(n_frames,)``: for each frame, the sum of the output differences
        measured where re-decodes stopped early before it in its chunk (how far the held
        samples may have drifted from a fresh decode of the grid).
    state_bytes : int
        Bytes one checkpoint adds at this interval (from the configuration).
    """

    interval: int
    n_frames: int
    states: dict[int, dict[int, Any]]
    residual: np.ndarray
    state_bytes: int

    @property
    def count(self) -> int:
        """Checkpoints held (empty start states not counted)."""
        return sum(1 for chunk in self.states.values() for offset in chunk if offset)

    @property
    def nbytes(self) -> int:
        """Memory the checkpoints hold, in bytes (tensors shared between snapshots counted once)."""
        seen: dict[int, int] = {}
        for chunk in self.states.values():
            for snap in chunk.values():
                for t in snap.tensors():
                    seen[id(t)] = t.numel() * t.element_size()
        return sum(seen.values())

    def copy(self) -> QwenCheckpoints:
        """A copy that can be updated without touching this one (states are never mutated, so
        they are shared)."""
        return QwenCheckpoints(
            self.interval,
            self.n_frames,
            {lo: dict(chunk) for lo, chunk in self.states.items()},
            self.residual.copy(),
            self.state_bytes,
        )


@dataclass
class RedecodeReport:
    """What :meth:`QwenCodec.redecode` did.

    Attributes
    ----------
    decoded : list of tuple of int
        Frame runs ``[(start, stop), ...]`` run through the decoder (a chunk's left context
        included).
    checkpoints_used : int
        Checkpoints restored (one per re-decoded stream).
    converged : list of int
        Frames where a re-decode stopped because its output matched the previous output
        within the stop tolerance (empty when every stream ran to its chunk's end).
    """

    decoded: list[tuple[int, int]]
    checkpoints_used: int
    converged: list[int]


# ---------------------------------------------------------------------------------- the codec
class QwenCodec(Codec):
    """Qwen3-TTS-Tokenizer-12Hz: 24 kHz mono <-> 16 layers x 2048 codes at 12.5 Hz.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A local checkpoint directory (``config.json`` + ``model.safetensors``; a Qwen3-TTS model
        folder with a ``speech_tokenizer/`` subfolder also works) or a hub id found in the local
        Hugging Face cache. Default: ``Qwen/Qwen3-TTS-Tokenizer-12Hz`` from the cache. Nothing
        is downloaded.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available, else CPU. The model
        runs in float32 (the decoder gives NaN in bfloat16).
    encode_window_s : float, optional
        Seconds of new audio per encoder window for long inputs (default 30).
    encode_context_s : float, optional
        Seconds of audio before each window that are encoded and thrown away so the window's
        codes match a whole-file encode (default 10).

    Notes
    -----
    Encoding gives ``ceil(n_samples / 1920)`` frames: the last partial frame is encoded as if
    padded with zeros to a whole frame (the library does the same). Decoding gives whole frames
    of 1920 samples; :meth:`Codec.decode` trims to the grid's ``n_samples``.

    :meth:`decode` runs the library's chunking (300 frames, 25 of left context) through the
    streaming decoder, :attr:`stream_step_frames` frames per step, so that an edit can be
    re-decoded from a stored state bit for bit; :meth:`library_decode` is qwen-tts's own
    decode (one call per chunk), equal to it within float rounding (max abs difference 3-4e-5,
    SNR about 86 dB on the released architecture with random weights). Both use the torch
    thread count in force: the last bits depend on it, so keep it fixed while editing.

    Layer 0 is the semantic codebook (``decoder.quantizer.rvq_first``), layers 1-15 a residual
    chain (``rvq_rest``); each group's per-layer embeddings add up in one 256-d space (codebook
    ``dim = codebook_dim // 2`` of the checkpoint) before the group's ``output_proj``, a 1x1
    convolution without bias, so a masked cell (embedding zeroed) contributes exactly nothing.
    """

    name = "qwen3-12hz"
    sample_rate = 24000
    frame_rate = 12.5
    n_layers = 16
    codebook_size = 2048

    has_embeddings = True

    chunk_frames = DECODE_CHUNK_FRAMES
    context_frames = DECODE_CONTEXT_FRAMES
    #: frames per streaming step in every decode (:meth:`decode`, :meth:`decode_range`,
    #: :meth:`decode_checkpointed`, :meth:`redecode`)
    stream_step_frames = STREAM_STEP_FRAMES

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        device: str | None = None,
        *,
        encode_window_s: float = 30.0,
        encode_context_s: float = 10.0,
    ) -> None:
        self.checkpoint = _resolve_checkpoint(path)
        if not (encode_window_s > 0 and encode_context_s >= 0):
            msg = f"encode_window_s must be > 0 and encode_context_s >= 0, got {encode_window_s}, {encode_context_s}"
            raise CodecError(msg)
        self.encode_window_frames = max(1, round(encode_window_s * self.frame_rate))
        self.encode_context_frames = round(encode_context_s * self.frame_rate)
        import torch

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._torch_device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            msg = f"unknown device {device!r} ({exc}); use 'cpu', 'cuda' or 'cuda:<index>'"
            raise CodecError(msg) from None
        if self._torch_device.type == "cuda" and not torch.cuda.is_available():
            msg = f"device {device!r} asked for but CUDA is not available; use device='cpu'"
            raise CodecError(msg)
        self.device = str(self._torch_device)
        self.model = _load_model(self.checkpoint, self.device)
        cfg = self.model.config
        if (
            int(cfg.input_sample_rate) != self.sample_rate
            or int(cfg.output_sample_rate) != self.sample_rate
            or int(cfg.encode_downsample_rate) != self.samples_per_frame
            or int(cfg.decode_upsample_rate) != self.samples_per_frame
            or int(cfg.decoder_config.num_quantizers) != self.n_layers
            or int(cfg.decoder_config.codebook_size) != self.codebook_size
        ):
            msg = (
                f"{self.checkpoint}: checkpoint is not 24 kHz / 1920 samples per frame / 16 x 2048 codes; "
                "only the 12 Hz tokenizer layout is supported"
            )
            raise CodecError(msg)
        self.receptive_field_frames = self._receptive_field()

    # ------------------------------------------------------------------ encoding
    def _encode_samples(self, samples: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
        """Encode float32 samples ``(n_samples,)`` at 24 kHz to codes ``(16, ceil(n_samples / 1920))``.

        Inputs longer than ``encode_window_s + encode_context_s`` are encoded window by window:
        each window adds ``encode_window_s`` seconds of codes and re-encodes the
        ``encode_context_s`` seconds before it as throw-away left context (the encoder is
        causal, so no right context is needed). Windows start on frame boundaries.
        ``progress(done, total)`` is called after each window.
        """
        spf = self.samples_per_frame
        n_samples = int(samples.shape[0])
        n_frames = -(-n_samples // spf)
        step, context = self.encode_window_frames, self.encode_context_frames
        if n_frames <= step + context:
            codes = self._encode_segment(samples, n_frames)
            if progress is not None:
                progress(1, 1)
            return codes
        starts = list(range(0, n_frames, step))
        out = np.empty((self.n_layers, n_frames), dtype=np.int64)
        for i, start in enumerate(starts):
            stop = min(start + step, n_frames)
            first = max(0, start - context)
            segment = samples[first * spf : min(stop * spf, n_samples)]
            codes = self._encode_segment(segment, stop - first)
            out[:, start:stop] = codes[:, start - first :]
            if progress is not None:
                progress(i + 1, len(starts))
        return out

    def _encode_segment(self, samples: np.ndarray, n_frames: int) -> np.ndarray:
        """Library encode of one segment; codes ``(16, n_frames)`` int64."""
        import torch

        x = torch.from_numpy(np.array(samples, dtype=np.float32))[None].to(self._torch_device)
        with torch.inference_mode():
            out = self.model.encode(x, torch.ones_like(x, dtype=torch.long), return_dict=True)
        codes = out.audio_codes[0].T.to("cpu").numpy().astype(np.int64)  # [T, 16] -> (16, T)
        if codes.shape != (self.n_layers, n_frames):
            msg = f"{self.name}: encoder returned codes of shape {codes.shape} for {samples.shape[0]} samples, expected {(self.n_layers, n_frames)}"
            raise CodecError(msg)
        return codes

    # ------------------------------------------------------------------ decoding
    def _decode_codes(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Decode ``(16, n_frames)`` codes, masked cells left out, to ``(n_frames * 1920,)`` float32.

        Each of :meth:`decode_chunks` is streamed from its left context,
        :attr:`stream_step_frames` frames at a time.
        """
        n_frames = int(codes.shape[1])
        return self._stream_chunks(codes, mask, 0, n_frames)

    def library_decode(self, codes: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """qwen-tts's own decode, one decoder call per chunk: float32 ``(n_frames * 1920,)``.

        Unmasked, bit-identical to ``Qwen3TTSTokenizerV2Model.decode`` (its
        ``chunked_decode(chunk_size=300, left_context_size=25)``); masked cells are left out as
        in :meth:`decode`. :meth:`decode` equals it within float rounding.

        Parameters
        ----------
        codes : numpy.ndarray
            int, shape ``(16, n_frames)``.
        mask : numpy.ndarray, optional
            bool, shape ``(16, n_frames)``; True cells are left out.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_frames * 1920,)``, clipped to [-1, 1] (untrimmed).
        """
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[0] != self.n_layers:
            msg = f"codes must have shape ({self.n_layers}, n_frames), got {codes.shape}"
            raise CodecError(msg)
        mask = np.zeros(codes.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
        return self._decode_chunks(codes, mask, 0, int(codes.shape[1]))

    def decode_chunks(self, n_frames: int) -> list[tuple[int, int]]:
        """The library's decode chunks: ``[(0, 300), (300, 600), ...]``, the last one shorter.

        Each chunk is decoded with up to 25 frames of left context that are decoded and cut
        off; nothing else is carried between chunks.
        """
        size = self.chunk_frames
        return [(start, min(start + size, n_frames)) for start in range(0, n_frames, size)]

    def _chunk_context(self, start: int) -> int:
        # as chunked_decode: full context when there is room for it, else everything before
        return self.context_frames if start - self.context_frames > 0 else start

    def affected_frames(self, start: int, stop: int, n_frames: int) -> tuple[int, int]:
        """Frames whose audio changes when codes in ``[start, stop)`` change, on chunk boundaries.

        A chunk changes when an edited frame lies in it or in its left context (the last 25
        frames of the chunk before it).

        Returns
        -------
        tuple of int
            ``(first_start, last_stop)`` of the chunks affected; ``(start, start)`` when the range is empty.
        """
        if not (0 <= start <= stop <= n_frames):
            msg = f"frame range [{start}, {stop}) must lie within 0..{n_frames}"
            raise CodecError(msg)
        if start == stop:
            return (start, start)
        hit = [
            (lo, hi)
            for lo, hi in self.decode_chunks(n_frames)
            if start < hi and stop > lo - self._chunk_context(lo)
        ]
        return (hit[0][0], hit[-1][1])

    def decode_range(self, grid, start: int, stop: int) -> np.ndarray:
        """Audio of frames ``[start, stop)``, bit-identical to the same samples of :meth:`decode`.

        ``start`` and ``stop`` must be :meth:`decode_chunks` boundaries; only those chunks (and
        their 25-frame left context) are decoded.

        Returns
        -------
        numpy.ndarray
            float32, shape ``((stop - start) * 1920,)`` (untrimmed).
        """
        self.check_grid(grid)
        bounds = {0, grid.n_frames} | {lo for lo, _ in self.decode_chunks(grid.n_frames)}
        if not (0 <= start < stop <= grid.n_frames) or start not in bounds or stop not in bounds:
            msg = (
                f"decode_range needs chunk boundaries 0 <= start < stop <= {grid.n_frames} "
                f"(multiples of {self.chunk_frames} or {grid.n_frames}), got [{start}, {stop})"
            )
            raise CodecError(msg)
        return self._stream_chunks(grid.codes, grid.mask, start, stop)

    def _stream_chunks(self, codes: np.ndarray, mask: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Streamed samples of the chunks ``[start, stop)`` (chunk boundaries), untrimmed."""
        n = int(np.asarray(codes).shape[1])
        spf = self.samples_per_frame
        out = np.zeros(n * spf, np.float32)
        codes_t, keep_t = self._tensors(codes, mask)
        for lo, hi in self.decode_chunks(n):
            if lo < stop and hi > start:
                self._run_stream(codes_t, keep_t, out, None, lo, hi, lo - self._chunk_context(lo), None)
        return out[start * spf : stop * spf].copy() if (start, stop) != (0, n) else out

    def _as_tensor(self, array: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(array).to(self._torch_device)

    def _decode_chunks(self, codes: np.ndarray, mask: np.ndarray, start: int, stop: int) -> np.ndarray:
        """The library's decode of the chunks ``[start, stop)``: one decoder call per chunk."""
        import torch

        spf = self.samples_per_frame
        codes_t, keep_t = self._tensors(codes, mask)
        pieces = []
        with torch.inference_mode():
            for lo, hi in self.decode_chunks(int(codes_t.shape[1])):
                if hi <= start or lo >= stop:
                    continue
                ctx = self._chunk_context(lo)
                wav = self._decode_window(codes_t[:, lo - ctx : hi], keep_t[:, lo - ctx : hi])
                pieces.append(wav[ctx * spf :].float().cpu().numpy())
        if not pieces:
            return np.zeros(0, np.float32)
        return np.concatenate(pieces).astype(np.float32, copy=False)

    def _latent(self, codes: Any, keep: Any) -> Any:
        """Sum of code embeddings per group through each group's ``output_proj``: ``(1, codebook_dim, T)``.

        Mirrors ``SplitResidualVectorQuantizer.decode`` operation for operation (so unmasked it
        is bit-identical), with masked cells' embeddings multiplied by zero.
        """
        import torch

        quantizer = self.model.decoder.quantizer
        hidden = None
        for rvq, layers in ((quantizer.rvq_first, [0]), (quantizer.rvq_rest, list(range(1, self.n_layers)))):
            summed = torch.zeros([1], device=codes.device)[0]
            for j, layer in enumerate(layers):
                emb = rvq.vq.layers[j].decode(codes[layer][None])  # (1, dim, T)
                if not bool(keep[layer].all()):
                    emb = emb * keep[layer].to(emb.dtype)
                summed = summed + emb
            out = rvq.output_proj(summed)
            hidden = out if hidden is None else hidden + out
        return hidden

    def _decode_window(self, codes: Any, keep: Any) -> Any:
        """``Qwen3TTSTokenizerV2Decoder.forward`` on ``(16, T)`` codes with a keep mask: ``(T * 1920,)``."""
        decoder = self.model.decoder
        hidden = self._latent(codes, keep)
        hidden = decoder.pre_conv(hidden).transpose(1, 2)
        hidden = decoder.pre_transformer(inputs_embeds=hidden).last_hidden_state
        hidden = hidden.permute(0, 2, 1)
        for blocks in decoder.upsample:
            for block in blocks:
                hidden = block(hidden)
        wav = hidden
        for block in decoder.decoder:
            wav = block(wav)
        return wav.clamp(min=-1, max=1)[0, 0]

    # ------------------------------------------------------------------ checkpointed decoding
    def _receptive_field(self) -> int:
        """Frames after an edited frame whose audio moves by more than 1e-4: one attention hop.

        From the configuration: ``sliding_window - 1`` frames of attention, ``kernel - 1`` of
        ``pre_conv`` and the causal convolution histories after the transformer, in frames (83
        for the released architecture). Changes reach further only through a second
        attention hop, damped by the layer scales; measured on the released architecture with
        random weights, audio moves by more than 1e-4 up to 80 frames after the edit and by
        about 3e-5 after that (docs/qwen_backend.md). :meth:`redecode` checks convergence
        rather than trusting this number.
        """
        from .qwen_stream import post_transformer_history_frames

        decoder = self.model.decoder
        pre = int(decoder.pre_conv.kernel_size) - 1
        return (
            int(decoder.config.sliding_window) - 1 + pre + math.ceil(post_transformer_history_frames(decoder))
        )

    def _stream(self) -> Any:
        from .qwen_stream import StreamingDecoder

        stream = getattr(self, "_stream_decoder", None)
        if stream is None:
            stream = self._stream_decoder = StreamingDecoder(self.model.decoder)
        return stream

    def checkpoint_bytes(self, interval: int | None = None) -> int:
        """Bytes one checkpoint adds when they are ``interval`` frames apart (default
        :data:`CHECKPOINT_INTERVAL_FRAMES`): the convolution histories plus the keys and values
        of the frames since the previous checkpoint (the rest of the window is shared), at
        most one window's; from the configuration."""
        from .qwen_stream import snapshot_nbytes

        return snapshot_nbytes(self.model.decoder, interval or CHECKPOINT_INTERVAL_FRAMES)

    def checkpoint_interval(
        self, n_frames: int, budget_bytes: int | None = None, interval: int | None = None
    ) -> int:
        """Frames between checkpoints: ``interval`` (default :data:`CHECKPOINT_INTERVAL_FRAMES`)
        as a multiple of :attr:`stream_step_frames`, raised a step at a time until all the
        checkpoints of ``n_frames`` fit in ``budget_bytes``."""
        step = self.stream_step_frames
        every = max(step, -(-(interval or CHECKPOINT_INTERVAL_FRAMES) // step) * step)
        if budget_bytes is None:
            return every
        while every < n_frames + self.context_frames:
            count = sum(
                (hi - lo + self._chunk_context(lo) - 1) // every for lo, hi in self.decode_chunks(n_frames)
            )
            if count * self.checkpoint_bytes(every) <= budget_bytes:
                break
            every += step
        return every

    def decode_checkpointed(
        self, grid, *, budget_bytes: int | None = None, interval: int | None = None
    ) -> tuple[np.ndarray, QwenCheckpoints]:
        """Decode ``grid`` as :meth:`decode` does, keeping states to re-decode edits from.

        A snapshot of each chunk's stream is kept every :meth:`checkpoint_interval` frames.
        The samples are bit-identical to :meth:`decode`'s.

        Returns
        -------
        samples : numpy.ndarray
            float32, shape ``(n_frames * 1920,)``, clipped to [-1, 1] (untrimmed).
        checkpoints : QwenCheckpoints
        """
        self.check_grid(grid)
        n = grid.n_frames
        every = self.checkpoint_interval(n, budget_bytes, interval)
        store = QwenCheckpoints(every, n, {}, np.zeros(n, np.float32), self.checkpoint_bytes(every))
        out = np.zeros(n * self.samples_per_frame, np.float32)
        codes_t, keep_t = self._tensors(grid.codes, grid.mask)
        for lo, hi in self.decode_chunks(n):
            self._run_stream(codes_t, keep_t, out, store, lo, hi, lo - self._chunk_context(lo), None)
        return out, store

    def redecode(
        self,
        grid,
        base,
        samples: np.ndarray,
        checkpoints: QwenCheckpoints,
        changed: list[tuple[int, int]],
        tolerance: float = 1e-4,
    ) -> tuple[np.ndarray, RedecodeReport]:
        """Patch the samples of ``base`` into those of ``grid``, re-decoding from checkpoints.

        For each decode chunk an edit reaches (:meth:`affected_frames`), the stream restarts
        from the last checkpoint at or before the chunk's first changed frame and runs step by
        step, exactly as :meth:`decode` runs it, so what it decodes is bit-identical to a
        full decode of ``grid``. When the grid kept its length, it stops after the first step
        that starts at least ``sliding_window - 1`` frames after the last changed frame (past
        every frame that attends to a changed one directly) and whose samples all differ from
        the previous ones by at most ``delta``, provided ``delta`` plus the residual that
        earlier early stops left in the rest of the chunk stays within ``tolerance``;
        otherwise it runs to the chunk's end, where the chunking makes every later chunk
        independent of the edit. Checkpoints passed are replaced.

        Parameters
        ----------
        grid, base : CodeGrid
            The grid to render and the grid ``samples`` and ``checkpoints`` describe.
        samples : numpy.ndarray
            float32, shape ``(base.n_frames * 1920,)``; patched in place when the length is unchanged.
        checkpoints : QwenCheckpoints
            Updated in place to describe ``grid``.
        changed : list of tuple of int
            Frame runs of ``grid`` that differ from ``base``; after a length change, one run
            from the first changed frame to the end.
        tolerance : float
            Largest allowed difference from :meth:`decode`, per sample.

        Returns
        -------
        samples : numpy.ndarray
            float32, shape ``(grid.n_frames * 1920,)``.
        report : RedecodeReport
        """
        self.check_grid(grid)
        n, spf = grid.n_frames, self.samples_per_frame
        changed = [(max(0, int(a)), min(int(b), n)) for a, b in changed if min(int(b), n) > max(0, int(a))]
        same_length = base.n_frames == n
        store = checkpoints
        if not same_length:
            out = np.zeros(n * spf, np.float32)
            keep = min(base.n_frames, n) * spf
            out[:keep] = samples[:keep]
            residual = np.zeros(n, np.float32)
            residual[: min(base.n_frames, n)] = store.residual[: min(base.n_frames, n)]
            store.residual, store.n_frames = residual, n
            valid = {lo for lo, _ in self.decode_chunks(n)}
            store.states = {lo: chunk for lo, chunk in store.states.items() if lo in valid}
        else:
            out = samples
        spans = [self.affected_frames(a, b, n) for a, b in changed]
        report = RedecodeReport([], 0, [])
        codes_t, keep_t = self._tensors(grid.codes, grid.mask)
        for lo, hi in self.decode_chunks(n):
            if not any(a < hi and b > lo for a, b in spans):
                continue
            start = lo - self._chunk_context(lo)
            hits = [(max(a, start), min(b, hi)) for a, b in changed if a < hi and b > start]
            first = min(a for a, _ in hits)
            last = max(b for _, b in hits)
            stop_after = last if same_length else None
            ran = self._run_stream(codes_t, keep_t, out, store, lo, hi, start, (first, stop_after, tolerance))
            report.decoded.append(ran[0])
            report.checkpoints_used += 1
            if ran[1] is not None:
                report.converged.append(ran[1])
        return out, report

    def _tensors(self, codes: np.ndarray, mask: np.ndarray) -> tuple[Any, Any]:
        """``(16, n_frames)`` codes and mask as int64 codes and a bool keep mask on the device."""
        codes_t = self._as_tensor(np.asarray(codes, dtype=np.int64))
        keep_t = self._as_tensor(~np.asarray(mask, dtype=bool))
        return codes_t, keep_t

    def _run_stream(
        self,
        codes_t: Any,
        keep_t: Any,
        out: np.ndarray,
        store: QwenCheckpoints | None,
        lo: int,
        hi: int,
        start: int,
        edit: tuple[int, int | None, float] | None,
    ) -> tuple[tuple[int, int], int | None]:
        """Stream one decode chunk ``[lo, hi)`` (from ``start``, its left context) into ``out``.

        Steps of :attr:`stream_step_frames` frames from ``start``, so every decode of the chunk
        runs the same operations on the same inputs. ``store`` (None: keep nothing) receives a
        snapshot every ``store.interval`` frames. ``edit = (first, stop_after, tolerance)``
        restarts from the last checkpoint at or before ``first`` and may stop early once the
        step starts ``sliding_window - 1`` frames after ``stop_after`` (None: never);
        ``edit=None`` decodes the whole chunk from the empty state. Returns the frames run and
        the frame where it stopped early (or None).
        """
        import torch

        from .qwen_stream import snapshot

        spf, step = self.samples_per_frame, self.stream_step_frames
        stream = self._stream()
        keep = stream.window - 1
        states = store.states.setdefault(lo, {}) if store is not None else {}
        offset = 0
        if edit is not None:
            offset = max((o for o in states if o <= edit[0] - start), default=0)
        previous = states.get(offset)
        state = previous.restore() if previous is not None and offset else stream.initial_state()
        if store is not None and 0 not in states:
            states[0] = previous = snapshot(stream.initial_state(), keep)
        pos = start + offset
        carried = 0.0
        if edit is not None and store is not None and lo <= pos < store.n_frames:
            carried = float(store.residual[pos])
        check_from = None if edit is None or edit[1] is None else edit[1] - 1 + keep
        begin = pos
        converged = None
        with torch.inference_mode():
            while pos < hi:
                stop = min(pos + step, hi)
                wav = stream.step(state, self._latent(codes_t[:, pos:stop], keep_t[:, pos:stop]))
                new = wav.float().cpu().numpy()
                a = max(pos, lo)
                piece = new[(a - pos) * spf :]
                delta = None
                if check_from is not None and pos >= check_from and a < stop:
                    delta = float(np.abs(piece - out[a * spf : stop * spf]).max())
                out[a * spf : stop * spf] = piece
                if store is not None:
                    if a < stop:
                        store.residual[a:stop] = carried
                    if stop < hi and (stop - start) % store.interval == 0:
                        states[stop - start] = previous = snapshot(state, keep, previous)
                pos = stop
                if delta is not None and store is not None and edit is not None and pos < hi:
                    tail = float(store.residual[pos:hi].max())
                    if tail + delta <= edit[2]:
                        store.residual[pos:hi] += delta
                        converged = pos
                        break
        return (begin, pos), converged

    # ------------------------------------------------------------------ embeddings
    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook vectors of ``layer`` in its group's space, before ``output_proj``.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(2048, dim)`` with ``dim = codebook_dim // 2`` (256 for the
            released checkpoint).
        """
        import torch

        if not isinstance(layer, (int, np.integer)) or not 0 <= int(layer) < self.n_layers:
            msg = f"layer must be in 0..{self.n_layers - 1}, got {layer!r}"
            raise CodecError(msg)
        quantizer = self.model.decoder.quantizer
        vq = quantizer.rvq_first.vq.layers[0] if layer == 0 else quantizer.rvq_rest.vq.layers[int(layer) - 1]
        with torch.inference_mode():
            book = vq._codebook
            table = book.embedding_sum / book.cluster_usage.clamp(min=book.epsilon)[:, None]
            table = vq.project_out(table)
        return table.float().cpu().numpy()

    def layer_groups(self) -> list[list[int]]:
        """``[[0], [1, ..., 15]]``: the semantic codebook and the 15-layer residual chain."""
        return [[0], list(range(1, self.n_layers))]

    def info(self) -> dict[str, object]:
        """As :meth:`Codec.info`, plus the checkpoint folder and decode chunking."""
        out = super().info()
        out.update(
            checkpoint=str(self.checkpoint),
            decode_chunk_frames=self.chunk_frames,
            decode_context_frames=self.context_frames,
            decode_step_frames=self.stream_step_frames,
        )
        return out
