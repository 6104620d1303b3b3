"""Backends for the audio codecs that ``transformers`` ships: Mimi, EnCodec, DAC and X-Codec.

Each backend opens a checkpoint saved with ``save_pretrained`` (a folder with ``config.json``
and weights) or a hub id already in the local Hugging Face cache; nothing is ever downloaded.
Encoding goes through the library's own ``encode``. Decoding sums the per-layer code
embeddings here, operation for operation as the library's quantizer ``decode`` does (so an
unmasked grid decodes bit-identically to the library's ``decode``), with masked cells left out
of the sum, then runs the library's decoder on that quantised latent.

===========  =====================  ==========  ===========  ==================================
backend      model class            layers      codebook     fewer layers (``n_layers=k``)
===========  =====================  ==========  ===========  ==================================
``mimi``     ``MimiModel``          32          2048         any ``k`` from 1 (semantic) to 32
``encodec``  ``EncodecModel``       32 (24 k)   1024         the bandwidths: 2, 4, 8, 16, 32
``dac``      ``DacModel``           9-32        1024         any ``k`` from 1
``xcodec``   ``XcodecModel``        8           1024         the bandwidths: 1, 2, 3, 4, 8
===========  =====================  ==========  ===========  ==================================

Incremental rendering: DAC and X-Codec decode with a stack of convolutions (no recurrence, no
attention), whose receptive field is computed from the modules (:func:`conv_radius_frames`);
they decode in chunks, each with that many frames of context on both sides, and agree with a
full decode to float32 rounding (not bit for bit: convolutions over other lengths sum in
another order). EnCodec's decoder has an LSTM and Mimi's a transformer, so they render by a
full decode; :meth:`HFCodec.info` says which (``"incremental"``). Seeded random checkpoints
for tests and benchmarks come from :func:`build_random_checkpoint`.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import CodecError
from .base import Codec, ProgressCallback
from .qwen_random import _MIMI_TINY as _QWEN_MIMI_TINY

__all__ = [
    "DacCodec",
    "EncodecCodec",
    "HFCodec",
    "MimiCodec",
    "XcodecCodec",
    "build_random_checkpoint",
    "cached_hub_ids",
    "conv_radius_frames",
    "describe_checkpoint",
]

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


# ---------------------------------------------------------------------------------- checkpoints
def _has_weights(folder: Path) -> bool:
    return any((folder / name).exists() for name in _WEIGHT_FILES)


def _cached_folder(repo_id: str) -> Path | None:
    """Snapshot folder of ``repo_id`` in the local Hugging Face cache, or None (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except (OSError, ValueError):
        return None
    if not isinstance(found, str):
        return None
    folder = Path(found).parent
    return folder if _has_weights(folder) else None


def cached_hub_ids(hub_ids: tuple[str, ...]) -> list[tuple[str, Path]]:
    """Which of ``hub_ids`` are in the local Hugging Face cache, with their snapshot folders."""
    out = []
    for repo_id in hub_ids:
        folder = _cached_folder(repo_id)
        if folder is not None:
            out.append((repo_id, folder))
    return out


def download_hint(repo_id: str) -> str:
    """One line saying how to get ``repo_id`` onto this machine."""
    return (
        f"checkpoint {repo_id} is not available offline: run `huggingface-cli download {repo_id}` "
        "on a networked machine (and copy its ~/.cache/huggingface here), or pass a local checkpoint "
        "directory to load_codec()"
    )


def read_model_type(folder: Path) -> str | None:
    """``model_type`` of ``folder/config.json``, or None when there is no readable one."""
    try:
        value = json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _torch_device(device: str | None) -> Any:
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        msg = f"unknown device {device!r} ({exc}); use 'cpu', 'cuda' or 'cuda:<index>'"
        raise CodecError(msg) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        msg = f"device {device!r} asked for but CUDA is not available; use device='cpu'"
        raise CodecError(msg)
    return dev


# ---------------------------------------------------------------------------------- base class
class HFCodec(Codec):
    """A ``transformers`` audio codec: mono audio <-> ``(n_layers, n_frames)`` codes.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder saved with ``save_pretrained`` (``config.json`` + weights) or a hub id in the
        local Hugging Face cache. Default: the first of :attr:`hub_ids` found in the cache.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available, else CPU.
    n_layers : int, optional
        Quantizer layers to encode with and decode from; one of :meth:`layer_choices`
        (default: all of them).

    Notes
    -----
    Encoding pads the input with zeros to whole frames and gives ``ceil(n_samples /
    samples_per_frame)`` frames; decoding gives whole frames (zero-padded or cut when the
    decoder's output length differs by a few samples) and :meth:`Codec.decode` trims to the
    grid's ``n_samples``. A grid is decoded only by a codec of the same :attr:`name`.
    """

    #: ``config.json`` ``model_type`` this backend opens.
    model_types: ClassVar[tuple[str, ...]] = ()
    #: Hub ids looked for in the local cache, in order of preference.
    hub_ids: ClassVar[tuple[str, ...]] = ()
    #: ``transformers`` class names of the config and the model.
    config_class: ClassVar[str]
    model_class: ClassVar[str]
    family: ClassVar[str]

    has_embeddings = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        device: str | None = None,
        *,
        n_layers: int | None = None,
    ) -> None:
        self.checkpoint = self._resolve(path)
        self._torch_device = _torch_device(device)
        self.device = str(self._torch_device)
        self.model = self._load(self.checkpoint)
        cfg = self.model.config
        self.sample_rate, hop, max_layers, self.codebook_size = self.config_shape(cfg)
        self.frame_rate = self.sample_rate / hop
        self.max_layers = max_layers
        self.checkpoint_name = self._checkpoint_name(path)
        self.name = self.codec_name(cfg)
        choices = self.layer_choices()
        if n_layers is None:
            n_layers = choices[-1]
        if (
            isinstance(n_layers, bool)
            or not isinstance(n_layers, (int, np.integer))
            or n_layers not in choices
        ):
            msg = f"n_layers={n_layers!r} is not available for {self.name}: use one of {_ranges(choices)}"
            raise CodecError(msg)
        self.n_layers = int(n_layers)
        self._after_load()

    def _after_load(self) -> None:
        """Backend set-up once the model is loaded (decode chunking)."""

    # ------------------------------------------------------------------ configuration
    @classmethod
    def config_shape(cls, cfg: Any) -> tuple[int, int, int, int]:
        """``(sample_rate, samples_per_frame, max_layers, codebook_size)`` of a config object."""
        raise NotImplementedError

    @classmethod
    def codec_name(cls, cfg: Any) -> str:
        """The name grids of this checkpoint carry (the family and its sample rate)."""
        sample_rate = cls.config_shape(cfg)[0]
        return f"{cls.family}-{_khz(sample_rate)}khz"

    @classmethod
    def describe_config(cls, config: dict[str, Any]) -> dict[str, object]:
        """Sample rate, frame rate, layers and codebook size read from a ``config.json`` dict."""
        cfg = cls._make_config(config)
        sample_rate, hop, layers, codebook = cls.config_shape(cfg)
        return {
            "codec": cls.codec_name(cfg),
            "sample_rate": sample_rate,
            "frame_rate": sample_rate / hop,
            "n_layers": layers,
            "codebook_size": codebook,
        }

    def layer_choices(self) -> list[int]:
        """Layer counts this checkpoint can encode with, ascending."""
        return list(range(1, self.max_layers + 1))

    @classmethod
    def _make_config(cls, config: dict[str, Any]) -> Any:
        import transformers

        data = {
            k: v
            for k, v in config.items()
            if k not in ("model_type", "transformers_version", "architectures")
        }
        with contextlib.redirect_stderr(io.StringIO()):
            return getattr(transformers, cls.config_class)(**data)

    # ------------------------------------------------------------------ loading
    def _checkpoint_name(self, path: str | os.PathLike[str] | None) -> str:
        return (
            str(self.checkpoint)
            if path is None or Path(os.fspath(path)).expanduser().is_dir()
            else os.fspath(path)
        )

    @classmethod
    def _resolve(cls, path: str | os.PathLike[str] | None) -> Path:
        from . import is_hub_id

        if path is None:
            found = cached_hub_ids(cls.hub_ids)
            if not found:
                msg = (
                    download_hint(cls.hub_ids[0])
                    if cls.hub_ids
                    else f"{cls.family}: pass a checkpoint directory"
                )
                raise CodecError(msg)
            return found[0][1]
        text = os.fspath(path)
        if is_hub_id(text):
            folder = _cached_folder(text)
            if folder is None:
                raise CodecError(download_hint(text))
            return cls._resolve(folder)
        folder = Path(text).expanduser()
        if not folder.is_dir():
            msg = f"{text}: no such checkpoint directory (pass a folder saved with save_pretrained, or a cached hub id)"
            raise CodecError(msg)
        model_type = read_model_type(folder)
        if model_type not in cls.model_types:
            msg = f"{folder / 'config.json'}: model_type is {model_type!r}, expected {' or '.join(map(repr, cls.model_types))}"
            raise CodecError(msg)
        if not _has_weights(folder):
            msg = f"{folder}: no weights; expected one of {', '.join(_WEIGHT_FILES)}"
            raise CodecError(msg)
        return folder

    def _load(self, folder: Path) -> Any:
        import torch
        import transformers

        model_cls = getattr(transformers, self.model_class)
        try:
            config = self._make_config(json.loads((folder / "config.json").read_text()))
            self._check_config(config, folder)
            with contextlib.redirect_stderr(io.StringIO()):
                model = model_cls.from_pretrained(
                    str(folder), config=config, local_files_only=True, dtype=torch.float32
                )
        except (OSError, ValueError, RuntimeError, KeyError, TypeError, json.JSONDecodeError) as exc:
            if isinstance(exc, CodecError):
                raise
            first = str(exc).strip().splitlines()
            msg = f"{folder}: could not load the {self.family} checkpoint ({first[0] if first else type(exc).__name__})"
            raise CodecError(msg) from None
        return model.to(self._torch_device).eval()

    def _check_config(self, cfg: Any, folder: Path) -> None:
        """Refuse layouts this backend cannot run (a :class:`CodecError` naming why)."""

    # ------------------------------------------------------------------ layers
    def layer_labels(self) -> list[str]:
        """One label per layer (``""`` where the codec gives the layer no special role)."""
        return [""] * self.n_layers

    # ------------------------------------------------------------------ encoding
    def _encode_samples(self, samples: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
        """Encode float32 ``(n_samples,)`` to int64 codes ``(n_layers, ceil(n_samples / samples_per_frame))``."""
        import torch

        spf = self.samples_per_frame
        n_frames = -(-int(samples.shape[0]) // spf)
        padded = np.zeros(n_frames * spf, np.float32)
        padded[: samples.shape[0]] = samples
        x = torch.from_numpy(padded)[None, None].to(self._torch_device)
        with torch.inference_mode():
            codes = self._library_encode(x)
        out = codes.to("cpu").numpy().astype(np.int64)
        if out.shape[0] != self.n_layers or out.shape[1] < n_frames:
            msg = f"{self.name}: encoder returned codes of shape {out.shape} for {samples.shape[0]} samples, expected {(self.n_layers, n_frames)}"
            raise CodecError(msg)
        if progress is not None:
            progress(1, 1)
        return out[:, :n_frames]

    def _library_encode(self, x: Any) -> Any:
        """The library's encode of ``x`` ``(1, 1, n)``: codes ``(n_layers, n_frames)``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ decoding
    def check_grid(self, grid: Any) -> None:
        """As :meth:`Codec.check_grid`, and the grid must come from a codec of this name."""
        super().check_grid(grid)
        if grid.codec != self.name:
            msg = f"grid from codec {grid.codec!r} does not fit codec {self.name!r}: decode it with load_codec({grid.codec!r}) or a checkpoint of that codec"
            raise CodecError(msg)

    def _decode_codes(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Decode ``(n_layers, n_frames)`` codes, masked cells left out, to ``(n_frames * samples_per_frame,)``."""
        import torch

        n_frames = int(codes.shape[1])
        codes_t = torch.from_numpy(np.asarray(codes, dtype=np.int64))[:, None, :].to(self._torch_device)
        keep = ~np.asarray(mask, dtype=bool)
        keep_t = torch.from_numpy(keep).to(self._torch_device)
        with torch.inference_mode():
            latent = self.latent(codes_t, keep_t)
            wav = self._synthesize(latent).reshape(-1).float().to("cpu").numpy()
        want = n_frames * self.samples_per_frame
        if wav.shape[0] >= want:
            return wav[:want].astype(np.float32, copy=False)
        return np.concatenate([wav, np.zeros(want - wav.shape[0], np.float32)])

    def latent(self, codes: Any, keep: Any) -> Any:
        """Quantised latent: sum of the kept cells' embeddings, as the library sums them.

        Parameters
        ----------
        codes : torch.Tensor
            int64, shape ``(n_layers, 1, n_frames)``.
        keep : torch.Tensor
            bool, shape ``(n_layers, n_frames)``; False cells add nothing.

        Returns
        -------
        torch.Tensor
            float32, shape ``(1, dim, n_frames)``, what the library's decoder takes.
        """
        raise NotImplementedError

    def _synthesize(self, latent: Any) -> Any:
        """The library's decoder after the quantizer: audio ``(..., n_samples)``."""
        raise NotImplementedError

    def library_decode(self, codes: np.ndarray) -> np.ndarray:
        """The library's own ``decode`` of unmasked codes, for comparison: float32 ``(n_samples,)``.

        This is ``model.decode(codes[None])`` (Mimi, X-Codec); backends whose ``decode`` takes
        other arguments override it.
        """
        import torch

        x = torch.from_numpy(np.asarray(codes, dtype=np.int64))[None].to(self._torch_device)
        with torch.inference_mode():
            return self.model.decode(x, return_dict=True).audio_values.reshape(-1).float().cpu().numpy()

    @staticmethod
    def _keep(emb: Any, keep_row: Any) -> Any:
        """``emb`` ``(1, dim, T)`` with the dropped frames zeroed (untouched when nothing is dropped)."""
        if bool(keep_row.all()):
            return emb
        return emb * keep_row.to(emb.dtype)

    # ------------------------------------------------------------------ embeddings
    def _check_layer(self, layer: int) -> int:
        if (
            isinstance(layer, bool)
            or not isinstance(layer, (int, np.integer))
            or not 0 <= int(layer) < self.n_layers
        ):
            msg = f"layer must be in 0..{self.n_layers - 1}, got {layer!r}"
            raise CodecError(msg)
        return int(layer)

    def info(self) -> dict[str, object]:
        """As :meth:`Codec.info`, plus the checkpoint, the layer choices and how edits are rendered."""
        out = super().info()
        out.update(
            checkpoint=self.checkpoint_name,
            layer_choices=self.layer_choices(),
            layer_labels=self.layer_labels(),
            incremental=self.context_frames is not None,
            render=(
                f"chunks of {self.chunk_frames} frames with {self.context_frames} frames of context each side"
                if self.context_frames is not None
                else "full decode (the decoder has no finite receptive field)"
            ),
        )
        return out

    # ------------------------------------------------------------------ incremental decoding
    #: Frames of context each side of a decode chunk (None: no chunks, always a full decode).
    context_frames: int | None = None
    #: Frames per decode chunk, when :attr:`context_frames` is set.
    chunk_frames: int = 0

    def _set_chunking(self, decoder: Any) -> None:
        """Chunk the decode by the decoder's receptive field (convolutional decoders only)."""
        radius = conv_radius_frames(decoder)
        self.context_frames = math.ceil(radius) + 2
        self.chunk_frames = max(4 * self.context_frames, round(2 * self.frame_rate))

    def decode_chunks(self, n_frames: int) -> list[tuple[int, int]]:
        """Chunks of :attr:`chunk_frames` frames, the last one shorter; one chunk when not chunked."""
        if self.context_frames is None:
            return super().decode_chunks(n_frames)
        size = self.chunk_frames
        return [(start, min(start + size, n_frames)) for start in range(0, n_frames, size)]

    def affected_frames(self, start: int, stop: int, n_frames: int) -> tuple[int, int]:
        """Chunks whose audio changes when codes in ``[start, stop)`` change: those within
        :attr:`context_frames` of the range. ``(start, start)`` for an empty range."""
        if self.context_frames is None:
            return super().affected_frames(start, stop, n_frames)
        if not (0 <= start <= stop <= n_frames):
            msg = f"frame range [{start}, {stop}) must lie within 0..{n_frames}"
            raise CodecError(msg)
        if start == stop:
            return (start, start)
        lo, hi = max(0, start - self.context_frames), min(n_frames, stop + self.context_frames)
        hit = [(a, b) for a, b in self.decode_chunks(n_frames) if a < hi and b > lo]
        return (hit[0][0], hit[-1][1])

    def decode_range(self, grid: Any, start: int, stop: int) -> np.ndarray:
        """Audio of frames ``[start, stop)`` (chunk boundaries), decoded with context each side.

        Equal to the same samples of :meth:`Codec.decode` to float32 rounding.

        Returns
        -------
        numpy.ndarray
            float32, shape ``((stop - start) * samples_per_frame,)`` (untrimmed).
        """
        if self.context_frames is None:
            return super().decode_range(grid, start, stop)
        self.check_grid(grid)
        n = grid.n_frames
        bounds = {0, n} | {a for a, _ in self.decode_chunks(n)}
        if not (0 <= start < stop <= n) or start not in bounds or stop not in bounds:
            msg = (
                f"decode_range needs chunk boundaries 0 <= start < stop <= {n} "
                f"(multiples of {self.chunk_frames} or {n}), got [{start}, {stop})"
            )
            raise CodecError(msg)
        spf = self.samples_per_frame
        a, b = max(0, start - self.context_frames), min(n, stop + self.context_frames)
        wav = self._decode_codes(grid.codes[:, a:b], grid.mask[:, a:b])
        return wav[(start - a) * spf : (stop - a) * spf]


def conv_radius_frames(decoder: Any) -> float:
    """How many code frames either side of a frame reach its audio, for a convolutional decoder.

    Walks the decoder's modules in order (the order DAC's decoder runs them) keeping the
    upsampling reached so far: a ``Conv1d`` adds ``dilation * (kernel - 1) / 2`` samples at that
    rate, a ``ConvTranspose1d`` ``kernel / stride`` positions of its input, then multiplies the
    rate by its stride. Element-wise layers (Snake, tanh) and per-frame linear layers add nothing.

    Returns
    -------
    float
        The receptive radius in code frames (about 10.4 for DAC 24 kHz).
    """
    from torch import nn

    radius, rate = 0.0, 1.0
    for module in decoder.modules():
        if isinstance(module, nn.ConvTranspose1d):
            radius += module.kernel_size[0] / module.stride[0] / rate
            rate *= module.stride[0]
        elif isinstance(module, nn.Conv1d):
            radius += module.dilation[0] * (module.kernel_size[0] - 1) / 2 / rate
    return radius


def _khz(sample_rate: int) -> str:
    return f"{sample_rate / 1000:g}" if sample_rate % 1000 else str(sample_rate // 1000)


def _ranges(values: list[int]) -> str:
    if values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


# ---------------------------------------------------------------------------------- Mimi
class MimiCodec(HFCodec):
    """Mimi (Kyutai, the codec of Moshi): 24 kHz <-> up to 32 layers x 2048 codes at 12.5 Hz.

    Layer 0 (the first ``num_semantic_quantizers``) is distilled from a self-supervised speech
    model: :meth:`layer_labels` calls it ``"semantic"``; it and the acoustic layers are two
    residual chains in separate spaces (:meth:`layer_groups`).
    """

    model_types = ("mimi",)
    hub_ids = ("kyutai/mimi",)
    config_class = "MimiConfig"
    model_class = "MimiModel"
    family = "mimi"

    @classmethod
    def config_shape(cls, cfg: Any) -> tuple[int, int, int, int]:
        sample_rate = int(cfg.sampling_rate)
        hop = round(sample_rate / float(cfg.frame_rate))
        return sample_rate, hop, int(cfg.num_quantizers), int(cfg.codebook_size)

    @classmethod
    def codec_name(cls, cfg: Any) -> str:
        return "mimi"

    @property
    def n_semantic(self) -> int:
        return int(self.model.config.num_semantic_quantizers)

    def layer_choices(self) -> list[int]:
        return list(range(max(1, self.n_semantic), self.max_layers + 1))

    def layer_labels(self) -> list[str]:
        return ["semantic" if i < self.n_semantic else "" for i in range(self.n_layers)]

    def layer_groups(self) -> list[list[int]]:
        first = list(range(self.n_semantic))
        rest = list(range(self.n_semantic, self.n_layers))
        return [first, rest] if rest else [first]

    def _library_encode(self, x: Any) -> Any:
        return self.model.encode(x, num_quantizers=self.n_layers, return_dict=True).audio_codes[0]

    def _vq(self, layer: int) -> Any:
        q = self.model.quantizer
        if layer < self.n_semantic:
            return q.semantic_residual_vector_quantizer.layers[layer]
        return q.acoustic_residual_vector_quantizer.layers[layer - self.n_semantic]

    def latent(self, codes: Any, keep: Any) -> Any:
        import torch

        q = self.model.quantizer
        out = None
        for rvq, layers in (
            (q.semantic_residual_vector_quantizer, range(self.n_semantic)),
            (q.acoustic_residual_vector_quantizer, range(self.n_semantic, self.n_layers)),
        ):
            if not len(layers):
                continue
            summed = torch.tensor(0.0, device=codes.device)
            for layer in layers:
                summed = summed + self._keep(self._vq(layer).decode(codes[layer]), keep[layer])
            if rvq.output_proj is not None:
                summed = rvq.output_proj(summed)
            out = summed if out is None else out + summed
        return out

    def _synthesize(self, latent: Any) -> Any:
        model = self.model
        emb = model.upsample(latent)
        hidden = model.decoder_transformer(emb.transpose(1, 2), return_dict=True)[0]
        return model.decoder(hidden.transpose(1, 2))

    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook of ``layer`` in its chain's space (before ``output_proj``): ``(codebook_size, dim)``."""
        import torch

        with torch.inference_mode():
            return self._vq(self._check_layer(layer)).codebook.embed.float().cpu().numpy()


# ---------------------------------------------------------------------------------- EnCodec
class EncodecCodec(HFCodec):
    """EnCodec (Meta) 24 kHz: mono <-> up to 32 layers x 1024 codes at 75 Hz.

    The layer counts are those of the model's bandwidths (1.5, 3, 6, 12, 24 kbps give 2, 4, 8,
    16 and 32 layers). The 48 kHz stereo model (chunked, with per-chunk scales) is refused.
    """

    model_types = ("encodec",)
    hub_ids = ("facebook/encodec_24khz",)
    config_class = "EncodecConfig"
    model_class = "EncodecModel"
    family = "encodec"

    @classmethod
    def config_shape(cls, cfg: Any) -> tuple[int, int, int, int]:
        hop = int(np.prod(cfg.upsampling_ratios))
        sample_rate = int(cfg.sampling_rate)
        bw_per_q = math.log2(int(cfg.codebook_size)) * (sample_rate / hop)
        layers = max(int(max(1, math.floor(b * 1000 / bw_per_q))) for b in cfg.target_bandwidths)
        return sample_rate, hop, layers, int(cfg.codebook_size)

    def _check_config(self, cfg: Any, folder: Path) -> None:
        if cfg.chunk_length_s is not None or cfg.normalize or int(cfg.audio_channels) != 1:
            msg = f"{folder}: EnCodec models that are chunked, normalised or stereo (the 48 kHz one) are not supported; use facebook/encodec_24khz"
            raise CodecError(msg)

    def _bandwidths(self) -> dict[int, float]:
        quantizer = self.model.quantizer
        return {
            min(quantizer.get_num_quantizers_for_bandwidth(b), len(quantizer.layers)): float(b)
            for b in self.model.config.target_bandwidths
        }

    def layer_choices(self) -> list[int]:
        return sorted(self._bandwidths())

    def _library_encode(self, x: Any) -> Any:
        bandwidth = self._bandwidths()[self.n_layers]
        return self.model.encode(x, bandwidth=bandwidth, return_dict=True).audio_codes[0, 0]

    def latent(self, codes: Any, keep: Any) -> Any:
        import torch

        summed = torch.tensor(0.0, device=codes.device)
        for layer in range(self.n_layers):
            summed = summed + self._keep(self.model.quantizer.layers[layer].decode(codes[layer]), keep[layer])
        return summed

    def _synthesize(self, latent: Any) -> Any:
        return self.model.decoder(latent)

    def library_decode(self, codes: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.asarray(codes, dtype=np.int64))[None, None].to(self._torch_device)
        with torch.inference_mode():
            out = self.model.decode(x, [None], return_dict=True).audio_values
        return out.reshape(-1).float().cpu().numpy()

    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook of ``layer`` in the encoder's latent space: ``(codebook_size, dim)``."""
        import torch

        with torch.inference_mode():
            return self.model.quantizer.layers[self._check_layer(layer)].codebook.embed.float().cpu().numpy()


# ---------------------------------------------------------------------------------- DAC
class DacCodec(HFCodec):
    """DAC (Descript audio codec) 16/24/44.1 kHz: mono <-> 12/32/9 layers x 1024 codes.

    Each layer's code is looked up in a low-dimensional codebook and projected by the layer's
    ``out_proj`` (a 1x1 convolution with bias) into the latent space where the layers add up;
    :meth:`embeddings` returns those projected vectors, and a masked cell leaves its whole term
    (bias included) out of the sum. Any ``n_layers`` from 1 is allowed.
    """

    model_types = ("dac",)
    hub_ids = ("descript/dac_24khz", "descript/dac_44khz", "descript/dac_16khz")
    config_class = "DacConfig"
    model_class = "DacModel"
    family = "dac"

    @classmethod
    def config_shape(cls, cfg: Any) -> tuple[int, int, int, int]:
        return int(cfg.sampling_rate), int(cfg.hop_length), int(cfg.n_codebooks), int(cfg.codebook_size)

    def _after_load(self) -> None:
        self._set_chunking(self.model.decoder)

    def _library_encode(self, x: Any) -> Any:
        return self.model.encode(x, n_quantizers=self.n_layers, return_dict=True).audio_codes[0]

    def latent(self, codes: Any, keep: Any) -> Any:
        summed: Any = 0.0
        for layer in range(self.n_layers):
            q = self.model.quantizer.quantizers[layer]
            summed = summed + self._keep(q.out_proj(q.codebook(codes[layer]).transpose(1, 2)), keep[layer])
        return summed

    def _synthesize(self, latent: Any) -> Any:
        return self.model.decoder(latent)

    def library_decode(self, codes: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.asarray(codes, dtype=np.int64))[None].to(self._torch_device)
        with torch.inference_mode():
            return (
                self.model.decode(audio_codes=x, return_dict=True)
                .audio_values.reshape(-1)
                .float()
                .cpu()
                .numpy()
            )

    def embeddings(self, layer: int) -> np.ndarray:
        """``out_proj`` of ``layer``'s codebook, in the latent space: ``(codebook_size, hidden_size)``."""
        import torch

        q = self.model.quantizer.quantizers[self._check_layer(layer)]
        with torch.inference_mode():
            return q.out_proj(q.codebook.weight.T[None])[0].T.float().cpu().numpy()

    def quantize(self, latent: np.ndarray, layers: Any) -> tuple[np.ndarray, np.ndarray]:
        """DAC's own residual quantisation (``in_proj``, then the nearest codebook entry by cosine).

        Parameters and returns as :meth:`Codec.quantize`; ``latent`` is ``(n_frames, hidden_size)``.
        """
        import torch

        residual = torch.from_numpy(np.array(latent, dtype=np.float32)).T[None].to(self._torch_device)
        if residual.ndim != 3:
            msg = f"latent must have shape (n_frames, dim), got {np.shape(latent)}"
            raise CodecError(msg)
        codes = np.zeros((len(layers), residual.shape[-1]), dtype=np.int64)
        with torch.inference_mode():
            for i, layer in enumerate(layers):
                q = self.model.quantizer.quantizers[self._check_layer(layer)]
                _, idx = q.decode_latents(q.in_proj(residual))
                residual = residual - q.out_proj(q.codebook(idx).transpose(1, 2))
                codes[i] = idx[0].cpu().numpy()
        return codes, residual[0].norm(dim=0).float().cpu().numpy()


# ---------------------------------------------------------------------------------- X-Codec
class XcodecCodec(HFCodec):
    """X-Codec (16 kHz): mono <-> up to 8 layers x 1024 codes at 50 Hz.

    Its encoder joins acoustic (DAC) and semantic (HuBERT or WavLM) features before one
    residual quantizer, so no single layer is "the semantic one". The layer counts are those of
    the bandwidths (0.5 to 4 kbps give 1, 2, 3, 4 and 8 layers).
    """

    model_types = ("xcodec",)
    hub_ids = (
        "hf-audio/xcodec-hubert-librispeech",
        "hf-audio/xcodec-hubert-general",
        "hf-audio/xcodec-wavlm-mls",
    )
    config_class = "XcodecConfig"
    model_class = "XcodecModel"
    family = "xcodec"

    @classmethod
    def config_shape(cls, cfg: Any) -> tuple[int, int, int, int]:
        return int(cfg.sample_rate), int(cfg.hop_length), int(cfg.num_quantizers), int(cfg.codebook_size)

    @classmethod
    def codec_name(cls, cfg: Any) -> str:
        return "xcodec" if int(cfg.sample_rate) == 16000 else f"xcodec-{_khz(int(cfg.sample_rate))}khz"

    @classmethod
    def _make_config(cls, config: dict[str, Any]) -> Any:
        # A semantic config naming a hub model would be fetched by XcodecConfig: build it here
        # from its own fields instead, offline.
        data = dict(config)
        semantic = data.get("semantic_model_config")
        if isinstance(semantic, dict):
            import transformers

            kind = semantic.get("model_type", "hubert")
            if kind not in ("hubert", "wavlm"):
                msg = f"X-Codec semantic model type {kind!r} is not supported (hubert or wavlm)"
                raise CodecError(msg)
            fields = {
                k: v
                for k, v in semantic.items()
                if k not in ("_name_or_path", "model_type", "transformers_version")
            }
            cfg_cls = transformers.HubertConfig if kind == "hubert" else transformers.WavLMConfig
            data["semantic_model_config"] = cfg_cls(**fields)
        return super()._make_config(data)

    def _bandwidths(self) -> dict[int, float]:
        quantizer = self.model.quantizer
        return {
            min(quantizer.get_num_quantizers_for_bandwidth(b), len(quantizer.quantizers)): float(b)
            for b in self.model.config.target_bandwidths
        }

    def layer_choices(self) -> list[int]:
        return sorted(self._bandwidths())

    def _after_load(self) -> None:
        self._set_chunking(self.model.acoustic_decoder)

    def _library_encode(self, x: Any) -> Any:
        return self.model.encode(
            x, bandwidth=self._bandwidths()[self.n_layers], return_dict=True
        ).audio_codes[0]

    def latent(self, codes: Any, keep: Any) -> Any:
        import torch

        summed = torch.tensor(0.0, device=codes.device)
        for layer in range(self.n_layers):
            summed = summed + self._keep(
                self.model.quantizer.quantizers[layer].decode(codes[layer]), keep[layer]
            )
        return summed

    def _synthesize(self, latent: Any) -> Any:
        hidden = self.model.fc2(latent.transpose(1, 2)).transpose(1, 2)
        return self.model.acoustic_decoder(hidden)

    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook of ``layer`` in the joint latent space: ``(codebook_size, dim)``."""
        import torch

        with torch.inference_mode():
            return (
                self.model.quantizer.quantizers[self._check_layer(layer)].codebook.embed.float().cpu().numpy()
            )


#: backend name -> class, for :mod:`qtok_widgets.codecs` and :func:`build_random_checkpoint`.
BACKENDS: dict[str, type[HFCodec]] = {
    "mimi": MimiCodec,
    "encodec": EncodecCodec,
    "dac": DacCodec,
    "xcodec": XcodecCodec,
}


def describe_checkpoint(folder: str | os.PathLike[str]) -> dict[str, object] | None:
    """Sample rate, frame rate, layers and codebook size of a checkpoint folder, without loading it.

    Returns None when ``config.json`` names no model type of :data:`BACKENDS`.
    """
    path = Path(folder)
    model_type = read_model_type(path)
    for cls in BACKENDS.values():
        if model_type in cls.model_types:
            return cls.describe_config(json.loads((path / "config.json").read_text()))
    return None


# ---------------------------------------------------------------------------------- random checkpoints
_TINY_HUBERT = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "conv_dim": [8] * 7,
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
}

#: ``(backend, preset) -> config fields`` for :func:`build_random_checkpoint`. ``"tiny"``
#: models have the released sample rates, frame rates, layer counts and codebook sizes but a
#: few thousand weights per layer; ``"released"`` ones have the published architecture.
PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    # the tiny Mimi of the Qwen test checkpoints (whose encoder is a Mimi), with Mimi's 32 layers
    ("mimi", "tiny"): {**_QWEN_MIMI_TINY, "num_quantizers": 32},
    ("mimi", "released"): {},
    ("encodec", "tiny"): {"num_filters": 4, "hidden_size": 16, "num_lstm_layers": 1},
    ("encodec", "released"): {},
    ("dac", "tiny"): {
        "encoder_hidden_size": 4,
        "decoder_hidden_size": 16,
        "hidden_size": 64,
        "codebook_dim": 4,
        "n_codebooks": 32,
        "downsampling_ratios": [2, 4, 5, 8],
        "sampling_rate": 24000,
    },
    ("dac", "released"): {
        "encoder_hidden_size": 64,
        "decoder_hidden_size": 1536,
        "hidden_size": 1024,
        "codebook_dim": 8,
        "n_codebooks": 32,
        "downsampling_ratios": [2, 4, 5, 8],
        "sampling_rate": 24000,
    },
    ("xcodec", "tiny"): {
        "acoustic_model_config": {
            "encoder_hidden_size": 4,
            "downsampling_ratios": [8, 5, 4, 2],
            "decoder_hidden_size": 16,
            "upsampling_ratios": [8, 5, 4, 2],
            "hidden_size": 16,
        },
        "semantic_model_config": _TINY_HUBERT,
    },
    ("xcodec", "released"): {},
}


def build_random_checkpoint(
    directory: str | os.PathLike[str],
    backend: str,
    preset: str = "tiny",
    seed: int = 0,
    **overrides: Any,
) -> Path:
    """Write a seeded random-weight checkpoint of a ``transformers`` codec with ``save_pretrained``.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder to write ``config.json`` and ``model.safetensors`` into (created if needed).
    backend : {"mimi", "encodec", "dac", "xcodec"}
    preset : {"tiny", "released"}
        ``"tiny"``: released shapes of codes (rates, layers, codebook size), a few hundred
        thousand weights, built in well under a second. ``"released"``: the published
        architecture (Mimi 80 M, EnCodec 15 M, DAC 24 kHz 74 M, X-Codec 16 kHz ~400 M weights).
    seed : int
        Same seed, same weights.
    **overrides
        Config fields to change (``codebook_size=65536``, ``num_quantizers=8``...).

    Returns
    -------
    pathlib.Path
        ``directory``, ready for ``load_codec(directory)``. The codes it makes mean nothing.
    """
    if (backend, preset) not in PRESETS:
        msg = f"unknown backend/preset {backend!r}/{preset!r}; use one of {', '.join(BACKENDS)} and tiny or released"
        raise CodecError(msg)
    import torch
    import transformers

    cls = BACKENDS[backend]
    fields = {**PRESETS[(backend, preset)], **overrides}
    config = cls._make_config(fields)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        with contextlib.redirect_stderr(io.StringIO()):
            model = getattr(transformers, cls.model_class)(config).eval()
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            _fill_codebooks(model, backend, gen)
            if backend == "mimi":
                _set_output_level(model, gen)
    finally:
        torch.random.set_rng_state(state)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        model.save_pretrained(str(folder), safe_serialization=True)
    return folder


def _set_output_level(model: Any, gen: Any, rms: float = 0.1) -> None:
    """Scale Mimi's last convolution so random codes decode to about ``rms`` RMS (random
    Mimi weights otherwise give levels far above full scale)."""
    import torch

    cfg = model.config
    codes = torch.randint(0, int(cfg.codebook_size), (1, int(cfg.num_quantizers), 4), generator=gen)
    last = model.decoder.layers[-1].conv
    level = float(model.decode(codes, return_dict=True).audio_values.pow(2).mean().sqrt())
    if level > 0:
        factor = float(f"{rms / level:.3g}")
        last.weight.mul_(factor)
        if last.bias is not None:
            last.bias.mul_(factor)


def _latent_features(model: Any, backend: str, gen: Any) -> Any:
    """What the quantizer of a random EnCodec or X-Codec sees for a fixed synthetic signal
    (a chirp and some noise), so codebooks can be drawn at the same scale."""
    import torch

    rate = int(getattr(model.config, "sampling_rate", 0) or model.config.sample_rate)
    t = torch.arange(rate, dtype=torch.float32) / rate
    signal = 0.3 * torch.sin(2 * math.pi * (120 + 200 * t) * t) + 0.05 * torch.randn(t.shape, generator=gen)
    x = signal[None, None]
    if backend == "encodec":
        return model.encoder(x)
    semantic = model.encoder_semantic(model._extract_semantic_features(x).transpose(1, 2))
    acoustic = model.acoustic_encoder(x)
    n = min(semantic.shape[-1], acoustic.shape[-1])
    joint = torch.cat([acoustic[..., :n], semantic[..., :n]], dim=1)
    return model.fc(joint.transpose(1, 2))


def _fill_codebooks(model: Any, backend: str, gen: Any) -> None:
    """Give the zero-initialised codebooks seeded Gaussian entries, smaller layer by layer."""
    import torch

    if backend == "mimi":
        q = model.quantizer
        for rvq in (q.semantic_residual_vector_quantizer, q.acoustic_residual_vector_quantizer):
            for j, layer in enumerate(rvq.layers):
                book = layer.codebook
                book.embed_sum.copy_(torch.randn(book.embed_sum.shape, generator=gen) / (1.0 + j))
                book.cluster_usage.fill_(1.0)
                book._embed = None
    elif backend in ("encodec", "xcodec"):
        layers = model.quantizer.layers if backend == "encodec" else model.quantizer.quantizers
        scale = float(f"{float(_latent_features(model, backend, gen).std()):.3g}") or 1.0
        for j, layer in enumerate(layers):
            book = layer.codebook
            book.embed.copy_(torch.randn(book.embed.shape, generator=gen) * scale / (1.0 + j))
            book.embed_avg.copy_(book.embed)
    # DAC's codebooks are nn.Embedding weights, already random
