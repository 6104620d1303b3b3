"""The Codec interface every backend implements.

A codec turns mono audio into a :class:`~qtok_widgets.grid.CodeGrid` of shape
``(n_layers, n_frames)`` and back. Backends implement three private hooks,
:meth:`Codec._encode_samples`, :meth:`Codec._decode_codes` and, when they decode in independent
chunks, :meth:`Codec.decode_chunks`; this base class does resampling, validation, trimming
and batching once for all of them.

A backend must say what it is: :attr:`~Codec.name`, :attr:`~Codec.sample_rate`,
:attr:`~Codec.frame_rate`, :attr:`~Codec.n_layers` and :attr:`~Codec.codebook_size` have no
defaults (``samples_per_frame`` follows from the two rates). Set them as class attributes, or
in ``__init__`` when they are only known then (the server codec learns them from the
server); reading one that was never set raises an ``AttributeError`` that names it.

One optional capability is declared as a class attribute, so callers can check before use:

``has_embeddings``
    :meth:`embeddings` returns one layer's codebook vectors, and :meth:`quantize` can snap
    latent vectors to codes residually, layer by layer.

Incremental decoding needs no flag: :meth:`decode_chunks`, :meth:`affected_frames` and
:meth:`decode_range` default to one chunk covering everything, which is always correct.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from ..audio import Audio, load_audio
from ..errors import CodecError
from ..grid import CodeGrid

__all__ = ["Codec", "ProgressCallback"]

log = logging.getLogger("qtok_widgets")

#: ``progress(done, total)``: called with fractions of work as encode/decode proceeds.
ProgressCallback = Callable[[int, int], None]


class Codec(ABC):
    """A neural (or classical) speech codec with ``n_layers`` residual quantizer layers.

    Attributes
    ----------
    name : str
        Codec identifier stored in every grid it makes (``"builtin"``, ``"qwen3-12hz"``); required.
    sample_rate : int
        Audio rate in Hz that the codec encodes from and decodes to (24000 for Qwen 12 Hz); required.
    frame_rate : float
        Code frames per second (12.5 for Qwen 12 Hz); required.
    samples_per_frame : int
        Audio samples per frame, ``round(sample_rate / frame_rate)`` (1920), as
        :attr:`CodeGrid.samples_per_frame <qtok_widgets.grid.CodeGrid.samples_per_frame>` computes it.
    n_layers : int
        Quantizer layers per frame (16 for Qwen 12 Hz); required.
    codebook_size : int
        Codes per layer (2048 for Qwen 12 Hz); required.
    device : str
        Where the model runs (``"cpu"``, ``"cuda:0"``).
    load_reason : str
        Why :func:`~qtok_widgets.load_codec` returned this codec (``"asked for"``, ``"from
        $QTOK_CODEC"``, ``"Qwen checkpoint found locally"`` or the built-in fallback's reason);
        ``"constructed directly"`` for a codec made without it.
    """

    # required of every backend: no defaults (see the module docstring)
    name: str
    sample_rate: int
    frame_rate: float
    n_layers: int
    codebook_size: int

    device: str = "cpu"
    load_reason: str = "constructed directly"

    has_embeddings: bool = False

    #: Frames after an edited frame whose audio can move by more than 1e-4; None: unknown.
    receptive_field_frames: int | None = None

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per code frame."""
        return round(self.sample_rate / self.frame_rate)

    # ------------------------------------------------------------------ backend hooks
    @abstractmethod
    def _encode_samples(self, samples: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
        """Encode mono float32 samples at ``self.sample_rate``.

        Parameters
        ----------
        samples : numpy.ndarray
            float32, shape ``(n_samples,)``, ``n_samples >= 1``.

        Returns
        -------
        numpy.ndarray
            Integer codes, shape ``(n_layers, ceil(n_samples / samples_per_frame))``.
        """

    @abstractmethod
    def _decode_codes(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Decode codes to audio.

        Parameters
        ----------
        codes : numpy.ndarray
            int, shape ``(n_layers, n_frames)``, validated to lie in ``0..codebook_size-1``.
        mask : numpy.ndarray
            bool, shape ``(n_layers, n_frames)``; True cells contribute nothing.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_frames * samples_per_frame,)`` (untrimmed).
        """

    # ------------------------------------------------------------------ public API
    def encode(self, audio: Audio | object, progress: ProgressCallback | None = None) -> CodeGrid:
        """Encode audio to codes.

        Parameters
        ----------
        audio : Audio or anything :func:`~qtok_widgets.load_audio` reads
            Resampled to :attr:`sample_rate` first when needed.
        progress : callable, optional
            ``progress(done, total)`` called as work proceeds (long inputs).

        Returns
        -------
        CodeGrid
            Shape ``(n_layers, ceil(n_samples / samples_per_frame))``, with ``n_samples`` the
            input length at :attr:`sample_rate`.
        """
        if not isinstance(audio, Audio):
            audio = load_audio(audio)
        audio = audio.resample(self.sample_rate)
        codes = np.asarray(self._encode_samples(audio.samples, progress))
        n_frames = -(-audio.n_samples // self.samples_per_frame)
        if codes.shape != (self.n_layers, n_frames):
            msg = f"{self.name}: backend returned codes of shape {codes.shape}, expected {(self.n_layers, n_frames)}"
            raise CodecError(msg)
        return CodeGrid(
            codes,
            codec=self.name,
            frame_rate=self.frame_rate,
            sample_rate=self.sample_rate,
            codebook_size=self.codebook_size,
            n_samples=audio.n_samples,
        )

    def decode(self, grid: CodeGrid) -> Audio:
        """Decode codes to audio at :attr:`sample_rate`, trimmed to ``grid.n_samples``.

        Masked cells (``grid.mask``) contribute nothing.

        Returns
        -------
        Audio
            float32 samples, shape ``(grid.n_samples,)``.
        """
        self.check_grid(grid)
        if grid.n_frames == 0:
            return Audio(np.zeros(0, np.float32), self.sample_rate, "decoded")
        samples = np.asarray(self._decode_codes(grid.codes, grid.mask), dtype=np.float32)
        return Audio(np.clip(samples[: grid.n_samples], -1.0, 1.0), self.sample_rate, f"decoded {self.name}")

    def encode_batch(
        self, audios: Sequence[Audio | object], progress: ProgressCallback | None = None
    ) -> list[CodeGrid]:
        """Encode several inputs; one grid each, in order."""
        out = []
        for i, audio in enumerate(audios):
            out.append(self.encode(audio))
            if progress is not None:
                progress(i + 1, len(audios))
        return out

    def decode_batch(self, grids: Sequence[CodeGrid]) -> list[Audio]:
        """Decode several grids; one :class:`Audio` each, in order."""
        return [self.decode(g) for g in grids]

    def check_grid(self, grid: CodeGrid) -> None:
        """Raise :class:`CodecError` when ``grid`` was not made for this codec's shape and rates."""
        if not isinstance(grid, CodeGrid):
            msg = f"expected a CodeGrid, got {type(grid).__name__}"
            raise CodecError(msg)
        problems = []
        if grid.n_layers != self.n_layers:
            problems.append(f"{grid.n_layers} layers (expected {self.n_layers})")
        if grid.codebook_size > self.codebook_size:
            problems.append(f"codebook size {grid.codebook_size} (expected {self.codebook_size})")
        if grid.frame_rate != self.frame_rate:
            problems.append(f"frame rate {grid.frame_rate:g} Hz (expected {self.frame_rate:g} Hz)")
        if grid.sample_rate != self.sample_rate:
            problems.append(f"sample rate {grid.sample_rate} Hz (expected {self.sample_rate} Hz)")
        if problems:
            msg = f"grid from codec {grid.codec!r} does not fit codec {self.name!r}: " + ", ".join(problems)
            raise CodecError(msg)

    # ------------------------------------------------------------------ optional capabilities
    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook vectors of one layer.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(codebook_size, dim)``; summing the vectors of a frame's codes over
            layers gives the frame's latent (for residual codecs).
        """
        msg = f"codec {self.name!r} does not expose code embeddings"
        raise CodecError(msg)

    def codebook(self, layer: int) -> np.ndarray:
        """The codebook of one layer: the vector each code stands for.

        Parameters
        ----------
        layer : int
            Layer index in ``0 .. n_layers - 1``.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(codebook_size, dim)``; row ``c`` is code ``c``'s vector (the
            same as :meth:`embeddings`). Codes whose vectors are close sound alike.

        Raises
        ------
        CodecError
            The layer is out of range, or the codec exposes no code embeddings.
        """
        if (
            isinstance(layer, bool)
            or not isinstance(layer, (int, np.integer))
            or not 0 <= int(layer) < self.n_layers
        ):
            msg = f"layer {layer!r} is out of range: layers must be in 0..{self.n_layers - 1}"
            raise CodecError(msg)
        if not self.has_embeddings:
            msg = f"codec {self.name!r} has no codebook vectors (it exposes no code embeddings)"
            raise CodecError(msg)
        return np.asarray(self.embeddings(int(layer)), dtype=np.float32)

    def layer_groups(self) -> list[list[int]]:
        """Layers whose embeddings add up in one latent space, in residual order.

        Residual quantisation runs within a group: each layer quantises what the layers before
        it in the same group left. Default: one group of all layers. Qwen 12 Hz has two,
        ``[[0], [1, ..., 15]]`` (a semantic codebook and a 15-layer residual chain).
        """
        return [list(range(self.n_layers))]

    def layer_labels(self) -> list[str]:
        """One label per layer, ``""`` where a layer has no special role.

        Default: ``"semantic"`` for a layer that forms a group of its own in
        :meth:`layer_groups` when there are several groups (Qwen 12 Hz and Mimi layer 0).
        """
        groups = self.layer_groups()
        single = {g[0] for g in groups if len(g) == 1} if len(groups) > 1 else set()
        return ["semantic" if i in single else "" for i in range(self.n_layers)]

    def quantize(self, latent: np.ndarray, layers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Snap latent vectors to codes, residually, over ``layers`` in the given order.

        ``r = latent``; for each layer ``l``: ``code_l = argmin_c ||r - E_l[c]||``, ``r -= E_l[code_l]``.
        All ``layers`` must belong to one :meth:`layer_groups` group. The default uses
        :meth:`embeddings`; backends may override it with something faster.

        Parameters
        ----------
        latent : numpy.ndarray
            float32, shape ``(n_frames, dim)`` in the space of :meth:`embeddings`.
        layers : sequence of int
            Layers to quantise, in residual order.

        Returns
        -------
        codes : numpy.ndarray
            int, shape ``(len(layers), n_frames)``.
        error : numpy.ndarray
            float32, shape ``(n_frames,)``: L2 norm of the residual left after the last layer.
        """
        if not self.has_embeddings:
            msg = f"codec {self.name!r} cannot quantise latents (it exposes no code embeddings)"
            raise CodecError(msg)
        residual = np.array(latent, dtype=np.float32, copy=True)
        if residual.ndim != 2:
            msg = f"latent must have shape (n_frames, dim), got {residual.shape}"
            raise CodecError(msg)
        codes = np.zeros((len(layers), residual.shape[0]), dtype=np.int64)
        for i, layer in enumerate(layers):
            table = np.asarray(self.embeddings(layer), dtype=np.float32)
            # ||r - e||^2 = ||r||^2 - 2 r.e + ||e||^2 ; the first term is constant per row
            dist = -2.0 * residual @ table.T + np.einsum("cd,cd->c", table, table)[None, :]
            codes[i] = np.argmin(dist, axis=1)
            residual -= table[codes[i]]
        return codes, np.linalg.norm(residual, axis=1).astype(np.float32)

    def decode_chunks(self, n_frames: int) -> list[tuple[int, int]]:
        """Frame ranges ``[(start, stop), ...]`` that the decoder handles independently.

        A full decode is the concatenation of :meth:`decode_range` over these ranges. The
        default is one chunk covering everything (no incremental decoding).
        """
        return [(0, n_frames)] if n_frames else []

    def affected_frames(self, start: int, stop: int, n_frames: int) -> tuple[int, int]:
        """Range of output frames whose audio changes when codes in ``[start, stop)`` change.

        The result is aligned to :meth:`decode_chunks` boundaries. Default: everything.
        """
        return (0, n_frames)

    def decode_range(self, grid: CodeGrid, start: int, stop: int) -> np.ndarray:
        """Audio of frames ``[start, stop)``, equal to the same samples of the full decode.

        ``start`` and ``stop`` must be :meth:`decode_chunks` boundaries. The default decodes
        everything and slices.

        Returns
        -------
        numpy.ndarray
            float32, shape ``((stop - start) * samples_per_frame,)`` (untrimmed).
        """
        self.check_grid(grid)
        spf = self.samples_per_frame
        full = np.asarray(self._decode_codes(grid.codes, grid.mask), dtype=np.float32)
        return full[start * spf : stop * spf]

    def info(self) -> dict[str, object]:
        """Name, rates, sizes, device and whether code embeddings are exposed, as a plain dict."""
        return {
            "codec": self.name,
            "sample_rate": self.sample_rate,
            "frame_rate": self.frame_rate,
            "samples_per_frame": self.samples_per_frame,
            "n_layers": self.n_layers,
            "codebook_size": self.codebook_size,
            "device": self.device,
            "has_embeddings": self.has_embeddings,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, {self.n_layers}x{self.codebook_size} codes "
            f"at {self.frame_rate:g} Hz, {self.sample_rate} Hz audio, device={self.device!r})"
        )
