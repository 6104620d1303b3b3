"""The built-in offline speech codec: WORLD vocoder features under 16 residual codebooks.

:class:`BuiltinCodec` keeps the Qwen3-TTS-Tokenizer-12Hz contract (24 kHz audio, 12.5 code
frames per second, 1920 samples per frame, 16 layers x 2048 codes) with nothing downloaded:
the model is a few megabytes of numpy arrays shipped in the package. Encoding analyses the
speech with the WORLD vocoder on a 10 ms grid (F0, voicing, a coded spectral envelope and a
coded aperiodicity per sub-frame), stacks the 8 sub-frames of each frame, weights and rotates
them (PCA) into a latent vector, and quantises that vector with 16 residual k-means codebooks:
layer 0 is the coarsest description of the frame, each further layer codes what the layers
before it left (from layer 4 on, in the leading principal directions of that remainder).
Decoding sums the codewords, adds a learned linear correction from the neighbouring frames'
sums (:meth:`BuiltinModel.postfiltered`), undoes the rotation, smooths the quantised log-F0
and aperiodicity along time (:data:`SMOOTH_F0_AP`) and synthesises speech with WORLD in short
fixed windows that are cross-faded, so that an edit changes the audio only near
where it was made (see :meth:`BuiltinCodec.affected_frames`).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import CodecError
from ..grid import CodeGrid
from . import _world
from .base import Codec, ProgressCallback

__all__ = [
    "CHUNK_FRAMES",
    "CONTEXT_FRAMES",
    "CONTEXT_SUBFRAMES",
    "ENCODE_BEAM",
    "FADE_SAMPLES",
    "MODEL_FILE",
    "SMOOTH_F0_AP",
    "WINDOW_CACHE_SIZE",
    "BuiltinCodec",
    "BuiltinModel",
    "postfilter_inputs",
]

#: Shipped model data (inside the package, loaded with ``allow_pickle=False``). The earlier
#: models stay beside it so that grids encoded with them still decode
#: (``BuiltinCodec(model_path=...)``): ``builtin_v1.npz`` (synthetic speech, Harvest pitch) and
#: ``builtin_v2.npz`` (real speech, Praat pitch, no post-filter).
MODEL_FILE = "builtin_v3.npz"

#: Frames per decode chunk (0.32 s): the unit that :meth:`BuiltinCodec.decode_range` re-decodes.
CHUNK_FRAMES = 4
#: Frames on each side of a chunk whose codes also shape the chunk's window.
CONTEXT_FRAMES = 1
#: Sub-frames (10 ms each) of each context frame that a window actually synthesises.
CONTEXT_SUBFRAMES = 3
#: Length of the cross-fade at the start of each chunk but the first (20 ms at 24 kHz).
FADE_SAMPLES = 480

#: Candidate code paths kept per frame while encoding (beam search over the 16 layers).
ENCODE_BEAM = 4

#: Decoder-side smoothing of the quantised log-F0 and aperiodicity along time: within a decode
#: window each 10 ms sub-frame's value ``x[k]`` becomes ``(1 - 2 w) x[k] + w (x[k - 1] + x[k + 1])``
#: with ``w`` = this weight (the window's first and last sub-frames are kept). Their
#: quantisation error jumps from one 80 ms frame to the next while pitch and breathiness move
#: smoothly, so this removes audible jitter; it raised the 16-layer median PESQ-WB of the
#: previous model (``builtin_v1.npz``) on ``tests/data`` from 1.81 to 1.86 (STOI stayed 0.888).
#: The spectral envelope and the voicing flag are
#: not smoothed (smoothing the envelope lowered the median PESQ-WB). The weight of models whose
#: file names none (``builtin_v1.npz``, ``builtin_v2.npz``); a newer model file carries its own
#: (``smooth_f0_ap``, see :attr:`BuiltinModel.smooth`). Fixed per model: a window's sound still
#: depends only on its codes and mask.
SMOOTH_F0_AP = 0.25

#: Synthesised decode windows kept for reuse (about 75 kB each): an edit then re-synthesises
#: only the windows whose codes changed, not their unchanged neighbours.
WINDOW_CACHE_SIZE = 256

#: Frames encoded per quantisation block (bounds memory for long clips).
_ENCODE_BLOCK = 1024


class BuiltinModel:
    """The codec's trained arrays, read from an ``.npz`` file without pickle.

    Attributes
    ----------
    n_sp : int
        Dimensions of the coded spectral envelope per sub-frame.
    f0_method : str
        Pitch tracker of the analysis, one of ``_world.F0_METHODS`` (stored as ``f0_method``;
        ``"harvest"`` when the file has none).
    band_hz : float
        Above this frequency the analysed envelope is replaced by ``_world.fill_high_band``'s
        extrapolation (stored as ``band_hz``; 0, coded up to 12 kHz, when the file has none).
    mean, scale : numpy.ndarray
        float64, shape ``(8 * n_feat,)``: a frame's stacked features ``x`` map to the weighted
        vector ``(x - mean) * scale``.
    components : numpy.ndarray
        float32, shape ``(dim, 8 * n_feat)``, orthonormal rows: latent = weighted @ components.T.
    codebooks : numpy.ndarray
        float32, shape ``(16, 2048, dim)``: codeword ``c`` of layer ``l`` is ``codebooks[l, c]``.
    smooth : float
        The decoder's smoothing weight of log-F0 and aperiodicity (stored as ``smooth_f0_ap``;
        :data:`SMOOTH_F0_AP` when the file has none).
    postfilter : numpy.ndarray or None
        float32, shape ``(3 * dim + 1, dim)`` (stored as ``postfilter``; None when the file has
        none): the decoder's learned correction, see :meth:`postfiltered`.
    """

    def __init__(self, path: str | Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError) as exc:
            msg = f"{path}: cannot read built-in codec data ({exc})"
            raise CodecError(msg) from None
        need = {"n_sp", "mean", "scale", "components", "codebooks"}
        missing = need - set(arrays)
        if missing:
            msg = f"{path}: built-in codec data lacks {', '.join(sorted(missing))}"
            raise CodecError(msg)
        self.path = Path(path)
        self.n_sp = int(arrays["n_sp"])
        self.mean = arrays["mean"].astype(np.float64)
        self.scale = arrays["scale"].astype(np.float64)
        self.components = np.ascontiguousarray(arrays["components"], dtype=np.float32)
        self.codebooks = np.ascontiguousarray(arrays["codebooks"], dtype=np.float32)
        self.codebooks.flags.writeable = False
        self.sq_norms = np.einsum("lcd,lcd->lc", self.codebooks, self.codebooks)
        self.smooth = float(arrays["smooth_f0_ap"]) if "smooth_f0_ap" in arrays else SMOOTH_F0_AP
        self.postfilter = (
            np.ascontiguousarray(arrays["postfilter"], dtype=np.float32) if "postfilter" in arrays else None
        )
        self.info = {k: arrays[k].tolist() for k in arrays if k.startswith("info_")}
        # the pitch tracker the model was trained with (files without the entry: Harvest)
        self.f0_method = str(arrays["f0_method"]) if "f0_method" in arrays else "harvest"
        # above this frequency the envelope is extrapolated, not coded (0: coded to 12 kHz)
        self.band_hz = float(arrays["band_hz"]) if "band_hz" in arrays else 0.0
        if self.f0_method not in _world.F0_METHODS:
            msg = f"{path}: unknown F0 method {self.f0_method!r} (want one of {', '.join(_world.F0_METHODS)})"
            raise CodecError(msg)
        n_feat = 2 + self.n_sp + 3
        dim = self.components.shape[0]
        if (
            self.mean.shape != (_world.SUBFRAMES * n_feat,)
            or self.components.shape[1] != self.mean.shape[0]
            or self.codebooks.shape[2] != dim
            or (self.postfilter is not None and self.postfilter.shape != (3 * dim + 1, dim))
        ):
            msg = f"{path}: built-in codec data has inconsistent shapes"
            raise CodecError(msg)

    @property
    def dim(self) -> int:
        """Latent dimensions."""
        return int(self.components.shape[0])

    @property
    def n_feat(self) -> int:
        """Features per 10 ms sub-frame."""
        return 2 + self.n_sp + 3

    def to_latent(self, features: np.ndarray) -> np.ndarray:
        """Sub-frame features ``(n_frames * 8, n_feat)`` -> latents float32 ``(n_frames, dim)``."""
        stacked = features.reshape(-1, _world.SUBFRAMES * self.n_feat)
        weighted = ((stacked - self.mean) * self.scale).astype(np.float32)
        return weighted @ self.components.T

    def postfiltered(self, latent: np.ndarray) -> np.ndarray:
        """Decoded latents of consecutive frames with the learned post-filter's correction added.

        The sum of a frame's codewords is the best guess of its latent given its own codes
        only; its neighbours' codes say more (speech changes little in 80 ms, and the
        quantisation error of one frame shows in the next). The post-filter is a linear
        least-squares map, fitted on the training speakers' quantised latents, from the frame
        and its two neighbours to the frame's remaining error:
        ``out[t] = q[t] + [q[t - 1], q[t], q[t + 1], 1] @ postfilter``, where the first and last
        frame stand in for their missing neighbour. Identity when the model has no post-filter.

        Parameters
        ----------
        latent : numpy.ndarray
            float32, shape ``(n_frames, dim)``: summed codewords of consecutive frames.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_frames, dim)``.
        """
        latent = np.asarray(latent, dtype=np.float32)
        if self.postfilter is None or latent.shape[0] == 0:
            return latent
        return latent + postfilter_inputs(latent) @ self.postfilter

    def from_latent(self, latent: np.ndarray) -> np.ndarray:
        """Latents ``(n_frames, dim)`` -> sub-frame features float64 ``(n_frames * 8, n_feat)``."""
        weighted = np.asarray(latent, dtype=np.float32) @ self.components
        stacked = weighted.astype(np.float64) / self.scale + self.mean
        return stacked.reshape(-1, self.n_feat)

    def decoded_features(self, latent: np.ndarray) -> np.ndarray:
        """What the decoder synthesises from the summed codewords of consecutive frames.

        :meth:`postfiltered`, then :meth:`from_latent`, then the smoothing of log-F0 and
        aperiodicity along time (weight :attr:`smooth`, see :data:`SMOOTH_F0_AP`).

        Parameters
        ----------
        latent : numpy.ndarray
            float32, shape ``(n_frames, dim)``.

        Returns
        -------
        numpy.ndarray
            float64, shape ``(n_frames * 8, 2 + n_sp + 3)`` (see ``_world.analyze``).
        """
        return _smooth(self.from_latent(self.postfiltered(latent)), self.n_sp, self.smooth)


def postfilter_inputs(latent: np.ndarray) -> np.ndarray:
    """The post-filter's input rows for latents of consecutive frames (see
    :meth:`BuiltinModel.postfiltered`), shared by the decoder and the training script.

    Parameters
    ----------
    latent : numpy.ndarray
        float32, shape ``(n_frames, dim)``, ``n_frames >= 1``.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n_frames, 3 * dim + 1)``: row ``t`` is ``[latent[t - 1], latent[t],
        latent[t + 1], 1]``, the first and last frame standing in for their missing neighbour.
    """
    latent = np.asarray(latent, dtype=np.float32)
    return np.concatenate(
        [
            np.concatenate([latent[:1], latent[:-1]]),
            latent,
            np.concatenate([latent[1:], latent[-1:]]),
            np.ones((latent.shape[0], 1), dtype=np.float32),
        ],
        axis=1,
    )


def _smooth(features: np.ndarray, n_sp: int, weight: float) -> np.ndarray:
    """Sub-frame features ``(n_sub, n_feat)`` with log-F0 and aperiodicity smoothed along time
    with ``weight`` (see :data:`SMOOTH_F0_AP`); voicing and the spectral envelope are left alone."""
    out = features.copy()
    cols = [0, *range(2 + n_sp, features.shape[1])]
    x = features[:, cols]
    out[1:-1, cols] = x[1:-1] + weight * (x[:-2] + x[2:] - 2.0 * x[1:-1])
    return out


@functools.cache
def _load_model(path: str) -> BuiltinModel:
    return BuiltinModel(path)


def _default_model_path() -> str:
    return str(resources.files("qtok_widgets.codecs").joinpath("data").joinpath(MODEL_FILE))


class BuiltinCodec(Codec):
    """Offline WORLD-vocoder speech codec with the Qwen 12 Hz shape (16 x 2048 codes, 12.5 Hz).

    Parameters
    ----------
    device : str, optional
        Accepted for interface compatibility; only ``None`` or ``"cpu"`` (the codec runs on CPU).
    model_path : str or os.PathLike, optional
        Another ``.npz`` model with the same layout (default: the one shipped in the package).

    Notes
    -----
    Locality of decoding: frames are decoded in chunks of :data:`CHUNK_FRAMES` frames. Chunk
    ``j`` (frames ``[s_j, e_j)``) is synthesised in a window whose features also come from
    :data:`CONTEXT_FRAMES` frame on each side (30 ms of each is synthesised), and its first
    :data:`FADE_SAMPLES` samples cross-fade from the previous chunk's window into its own. A code change at frame ``t``
    therefore changes the audio of the chunk holding ``t``, of a neighbouring chunk when ``t``
    lies within one frame of a chunk boundary, and of the chunk after each changed window:
    at most the 3 chunks (12 frames, 0.96 s) around ``t``. :meth:`affected_frames` returns the
    exact range, and a full decode equals the concatenation of :meth:`decode_range` over
    :meth:`decode_chunks`, sample for sample.
    """

    name = "builtin"
    sample_rate = 24000
    frame_rate = 12.5
    n_layers = 16
    codebook_size = 2048
    device = "cpu"

    has_embeddings = True

    def __init__(self, device: str | None = None, model_path: str | Path | None = None) -> None:
        if device not in (None, "cpu"):
            msg = f"the built-in codec runs on the CPU only: use device=None or 'cpu', not {device!r}"
            raise CodecError(msg)
        self._model_path = str(model_path) if model_path is not None else _default_model_path()
        if model_path is not None and not Path(self._model_path).is_file():
            msg = f"{self._model_path}: no such built-in codec model file"
            raise CodecError(msg)
        self._window_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def clear_cache(self) -> None:
        """Forget the synthesised decode windows kept for reuse (frees their memory)."""
        with self._cache_lock:
            self._window_cache.clear()

    # ------------------------------------------------------------------ model
    @property
    def model(self) -> BuiltinModel:
        """The trained arrays, loaded on first use and cached per file."""
        return _load_model(self._model_path)

    # ------------------------------------------------------------------ encode
    def _encode_samples(self, samples: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
        """Encode 24 kHz samples ``(n_samples,)`` to codes int32 ``(16, ceil(n_samples / 1920))``."""
        samples = np.asarray(samples, dtype=np.float32)
        n_frames = -(-samples.shape[0] // self.samples_per_frame)
        latent = self.latents(samples)
        codes = np.zeros((self.n_layers, n_frames), dtype=np.int32)
        for start in range(0, n_frames, _ENCODE_BLOCK):
            stop = min(n_frames, start + _ENCODE_BLOCK)
            codes[:, start:stop], _ = self.quantize_beam(latent[start:stop], beam=ENCODE_BEAM)
            if progress is not None:
                progress(stop, n_frames)
        return codes

    def latents(self, samples: np.ndarray) -> np.ndarray:
        """Unquantised latents of 24 kHz speech.

        Parameters
        ----------
        samples : numpy.ndarray
            float32, shape ``(n_samples,)``, ``n_samples >= 1``, at 24 kHz.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(ceil(n_samples / 1920), dim)`` in the space of :meth:`embeddings`.
        """
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1 or samples.shape[0] == 0:
            msg = f"samples must be a non-empty 1-D array, got shape {samples.shape}"
            raise CodecError(msg)
        n_frames = -(-samples.shape[0] // self.samples_per_frame)
        model = self.model
        features = _world.analyze(
            samples, n_frames, model.n_sp, f0_method=model.f0_method, band_hz=model.band_hz
        )
        return model.to_latent(features)

    def quantize(self, latent: np.ndarray, layers: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Snap latents ``(n_frames, dim)`` to codes residually over ``layers`` (in that order).

        Returns
        -------
        codes : numpy.ndarray
            int32, shape ``(len(layers), n_frames)``.
        error : numpy.ndarray
            float32, shape ``(n_frames,)``: L2 norm of the residual left after the last layer.
        """
        model = self.model
        residual = np.array(latent, dtype=np.float32, copy=True)
        if residual.ndim != 2 or residual.shape[1] != model.dim:
            msg = f"latent must have shape (n_frames, {model.dim}), got {residual.shape}"
            raise CodecError(msg)
        layers = [self._check_layer(layer) for layer in layers]
        codes = np.zeros((len(layers), residual.shape[0]), dtype=np.int32)
        for i, layer in enumerate(layers):
            table = model.codebooks[layer]
            dist = model.sq_norms[layer][None, :] - 2.0 * (residual @ table.T)
            codes[i] = np.argmin(dist, axis=1)
            residual -= table[codes[i]]
        return codes, np.linalg.norm(residual, axis=1).astype(np.float32)

    def quantize_beam(self, latent: np.ndarray, beam: int = ENCODE_BEAM) -> tuple[np.ndarray, np.ndarray]:
        """Codes of all 16 layers for latents ``(n_frames, dim)`` by beam search.

        Greedy residual quantisation (:meth:`quantize`) picks each layer's nearest codeword;
        the beam search keeps the ``beam`` best partial code paths per frame after every layer
        and returns the path with the smallest final residual. On held-out speech ``beam=4``
        leaves about 15 % less residual energy than greedy on average (not on every frame);
        ``beam=1`` is exactly greedy.

        Returns
        -------
        codes : numpy.ndarray
            int32, shape ``(16, n_frames)``.
        error : numpy.ndarray
            float32, shape ``(n_frames,)``: L2 norm of the final residual.
        """
        model = self.model
        latent = np.asarray(latent, dtype=np.float32)
        if latent.ndim != 2 or latent.shape[1] != model.dim:
            msg = f"latent must have shape (n_frames, {model.dim}), got {latent.shape}"
            raise CodecError(msg)
        if not isinstance(beam, (int, np.integer)) or beam < 1:
            msg = f"beam must be a positive integer, got {beam!r}"
            raise CodecError(msg)
        n, k = latent.shape[0], self.codebook_size
        residual = latent[:, None, :].copy()  # (n, paths, dim)
        score = np.einsum("npd,npd->np", residual, residual)
        paths = np.zeros((n, 1, 0), dtype=np.int32)
        rows = np.arange(n)[:, None]
        for layer in range(self.n_layers):
            table = model.codebooks[layer]
            # squared distance of every (path, codeword) pair: (n, paths, k)
            n_paths = residual.shape[1]
            dots = (residual.reshape(n * n_paths, -1) @ table.T).reshape(n, n_paths, k)
            flat = (score[:, :, None] - 2.0 * dots + model.sq_norms[layer][None, None, :]).reshape(n, -1)
            width = min(int(beam), flat.shape[1])
            best = np.argpartition(flat, width - 1, axis=1)[:, :width]
            # order the survivors by distance, then by index, so ties resolve the same everywhere
            order = np.lexsort((best, np.take_along_axis(flat, best, axis=1)), axis=1)
            best = np.take_along_axis(best, order, axis=1)
            parent, code = np.divmod(best, k)
            residual = residual[rows, parent] - table[code]
            score = np.einsum("npd,npd->np", residual, residual)
            paths = np.concatenate([paths[rows, parent], code[:, :, None].astype(np.int32)], axis=2)
        pick = np.argmin(score, axis=1)
        codes = paths[np.arange(n), pick].T
        error = np.sqrt(np.maximum(score[np.arange(n), pick], 0.0)).astype(np.float32)
        return np.ascontiguousarray(codes, dtype=np.int32), error

    # ------------------------------------------------------------------ decode
    def _latent_of(self, codes: np.ndarray, mask: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Sum of the unmasked codewords of frames ``[start, stop)``: float32 ``(stop - start, dim)``."""
        model = self.model
        latent = np.zeros((stop - start, model.dim), dtype=np.float32)
        for layer in range(self.n_layers):
            keep = ~np.asarray(mask[layer, start:stop], dtype=bool)
            if keep.any():
                rows = np.asarray(codes[layer, start:stop], dtype=np.int64)
                latent[keep] += model.codebooks[layer][rows[keep]]
        return latent

    def _window(
        self, codes: np.ndarray, mask: np.ndarray, chunk: int, n_frames: int
    ) -> tuple[int, np.ndarray]:
        """Synthesise chunk ``chunk``'s window; return the global index of its first sample and its
        float64 samples. The window's features come from the chunk's frames and one frame on each
        side; only :data:`CONTEXT_SUBFRAMES` sub-frames of each side frame are synthesised."""
        start = chunk * CHUNK_FRAMES
        stop = min(n_frames, start + CHUNK_FRAMES)
        first = max(0, start - CONTEXT_FRAMES)
        last = min(n_frames, stop + CONTEXT_FRAMES)
        lead = CONTEXT_SUBFRAMES if first < start else 0
        trail = CONTEXT_SUBFRAMES if last > stop else 0
        origin = start * self.samples_per_frame - lead * _world.HOP
        # a window's sound depends only on its codes and mask, so identical windows are reused
        key = hashlib.blake2b(
            bytes([lead, trail, start - first, stop - first])
            + np.ascontiguousarray(codes[:, first:last], dtype=np.int32).tobytes()
            + np.ascontiguousarray(mask[:, first:last], dtype=bool).tobytes(),
            digest_size=16,
        ).digest()
        with self._cache_lock:
            wave = self._window_cache.get(key)
            if wave is not None:
                self._window_cache.move_to_end(key)
                return origin, wave
        features = self.model.decoded_features(self._latent_of(codes, mask, first, last))
        sub = _world.SUBFRAMES
        features = features[(start - first) * sub - lead : (stop - first) * sub + trail]
        wave = _world.synthesize(features, self.model.n_sp)
        wave.flags.writeable = False
        with self._cache_lock:
            self._window_cache[key] = wave
            while len(self._window_cache) > WINDOW_CACHE_SIZE:
                self._window_cache.popitem(last=False)
        return origin, wave

    def _assemble(self, codes: np.ndarray, mask: np.ndarray, chunk_start: int, chunk_stop: int) -> np.ndarray:
        """Samples of chunks ``[chunk_start, chunk_stop)``, float32 ``(frames * 1920,)``."""
        n_frames = codes.shape[1]
        spf = self.samples_per_frame
        fade_in = (0.5 - 0.5 * np.cos(np.pi * (np.arange(FADE_SAMPLES) + 0.5) / FADE_SAMPLES)).astype(
            np.float64
        )
        f_start = chunk_start * CHUNK_FRAMES
        f_stop = min(n_frames, chunk_stop * CHUNK_FRAMES)
        out = np.zeros((f_stop - f_start) * spf, dtype=np.float64)
        previous = self._window(codes, mask, chunk_start - 1, n_frames) if chunk_start > 0 else None
        for chunk in range(chunk_start, chunk_stop):
            origin, wave = self._window(codes, mask, chunk, n_frames)
            s = chunk * CHUNK_FRAMES * spf
            e = min(n_frames, (chunk + 1) * CHUNK_FRAMES) * spf
            seg = wave[s - origin : e - origin].copy()
            if previous is not None:
                p_origin, p_wave = previous
                n = min(FADE_SAMPLES, seg.shape[0])
                tail = p_wave[s - p_origin : s - p_origin + n]
                seg[:n] = tail * (1.0 - fade_in[:n]) + seg[:n] * fade_in[:n]
            out[s - f_start * spf : e - f_start * spf] = seg
            previous = (origin, wave)
        return out.astype(np.float32)

    def _decode_codes(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Decode codes ``(16, n_frames)`` (masked cells skipped) to float32 ``(n_frames * 1920,)``."""
        n_frames = codes.shape[1]
        if n_frames == 0:
            return np.zeros(0, dtype=np.float32)
        return self._assemble(codes, mask, 0, self._n_chunks(n_frames))

    def decode_chunks(self, n_frames: int) -> list[tuple[int, int]]:
        """Independent decode ranges: ``[(0, 4), (4, 8), ...]``, the last one possibly shorter."""
        n_frames = int(n_frames)
        return [(s, min(n_frames, s + CHUNK_FRAMES)) for s in range(0, n_frames, CHUNK_FRAMES)]

    def affected_frames(self, start: int, stop: int, n_frames: int) -> tuple[int, int]:
        """Frames whose audio changes when codes in ``[start, stop)`` change, on chunk boundaries.

        A window (chunk ``j`` plus one frame of context each side) changes when it holds a
        changed frame; chunk ``j`` sounds its own window and cross-fades from window ``j - 1``.
        Returns ``(0, 0)`` when ``start >= stop``.
        """
        start, stop, n_frames = int(start), int(stop), int(n_frames)
        if not 0 <= start <= n_frames or not 0 <= stop <= n_frames:
            msg = f"frame range [{start}, {stop}) is outside the grid's 0..{n_frames} frames"
            raise CodecError(msg)
        if start >= stop:
            return (0, 0)
        n_chunks = self._n_chunks(n_frames)
        first_window = max(0, (start - CONTEXT_FRAMES) // CHUNK_FRAMES)
        if (first_window + 1) * CHUNK_FRAMES + CONTEXT_FRAMES <= start:
            first_window += 1
        last_window = min(n_chunks - 1, (stop - 1 + CONTEXT_FRAMES) // CHUNK_FRAMES)
        last_chunk = min(n_chunks - 1, last_window + 1)
        return (first_window * CHUNK_FRAMES, min(n_frames, (last_chunk + 1) * CHUNK_FRAMES))

    def decode_range(self, grid: CodeGrid, start: int, stop: int) -> np.ndarray:
        """Audio of frames ``[start, stop)``, equal sample for sample to the full decode there.

        ``start`` and ``stop`` must be :meth:`decode_chunks` boundaries (multiples of 4, or
        ``grid.n_frames``). Cost: one window per chunk plus the window before ``start``.

        Returns
        -------
        numpy.ndarray
            float32, shape ``((stop - start) * 1920,)`` (untrimmed).
        """
        self.check_grid(grid)
        n_frames = grid.n_frames
        start, stop = int(start), int(stop)
        bounds = {0, n_frames, *range(0, n_frames, CHUNK_FRAMES)}
        if start not in bounds or stop not in bounds or start > stop:
            msg = (
                f"decode_range needs chunk boundaries 0 <= start <= stop <= {n_frames} "
                f"(multiples of {CHUNK_FRAMES} or {n_frames}), got [{start}, {stop})"
            )
            raise CodecError(msg)
        if start == stop:
            return np.zeros(0, dtype=np.float32)
        chunk_stop = self._n_chunks(n_frames) if stop == n_frames else stop // CHUNK_FRAMES
        return self._assemble(grid.codes, grid.mask, start // CHUNK_FRAMES, chunk_stop)

    @staticmethod
    def _n_chunks(n_frames: int) -> int:
        return -(-n_frames // CHUNK_FRAMES)

    # ------------------------------------------------------------------ embeddings
    def embeddings(self, layer: int) -> np.ndarray:
        """Codebook vectors of ``layer`` (0..15): float32 ``(2048, dim)``, a read-only view.

        Summing the vectors of a frame's 16 codes gives the frame's latent; decoding turns the
        latent into WORLD features (see the module docstring).
        """
        return self.model.codebooks[self._check_layer(layer)]

    def layer_groups(self) -> list[list[int]]:
        """One residual chain of all 16 layers, ``[[0, 1, ..., 15]]``."""
        return [list(range(self.n_layers))]

    def _check_layer(self, layer: int) -> int:
        if not isinstance(layer, (int, np.integer)) or not 0 <= int(layer) < self.n_layers:
            msg = f"layer must be an integer in 0..{self.n_layers - 1}, got {layer!r}"
            raise CodecError(msg)
        return int(layer)

    def info(self) -> dict[str, object]:
        """As :meth:`Codec.info`, plus the model file and the decode chunk length."""
        out = super().info()
        out["model"] = Path(self._model_path).name
        out["decode_chunk_frames"] = CHUNK_FRAMES
        return out
