"""Train the built-in codec's model data (``qtok_widgets/codecs/data/builtin_v3.npz``).

Steps, all seeded: (1) analyse every file of the training side of a speaker split of real
speech (``--corpus`` with ``--split``, from ``scripts/split_builtin_speech.py``), or every WAV
of a synthetic corpus (``make_builtin_corpus.py``, the previous model), with the codec's own
WORLD analysis at 24 kHz (``--f0-method``, ``--band-hz``); (2) augment in the WORLD domain (F0
scaled by 0.7-1.45, spectral envelope frequency-warped by 0.85-1.18, gain -12..+6 dB), several
copies per file; (3) stack the 8 sub-frames of each 80 ms frame at several sub-frame offsets;
(4) give the frames varied recording channels (``--channel-augment``) and, for synthetic
voices, the breathiness and formant detail of recorded ones (``--voice-augment``); (5) weight
the feature groups (``--weight``), centre, and rotate with PCA, keeping ``--dim`` dimensions;
(6) fit 16 residual k-means codebooks of 2048 entries, layer by layer (each on what the layers
before it left), in float32 with torch; from layer ``--subspace-from`` on, each codebook is
fitted in the leading principal subspace (``--subspace-dims``) of what the layers before it
left and lifted back into the full latent space (:func:`subspace_kmeans`); optionally refined
jointly (``--refine-passes``); (7) with ``--postfilter-ridge`` > 0, fit the decoder's linear
post-filter (:func:`fit_postfilter`), and store it with the decoder's smoothing weight
(``--smooth``) in the model file. The validation side of the split and the clips in
``tests/data`` are never trained on.

Usage (the shipped model; data, times and how the options were chosen: docs/builtin_codec.md)::

    nice -n 5 .venv/bin/python scripts/train_builtin_codec.py --corpus ../shared/speech \
        --split benchmarks/builtin_speech_split.csv --f0-method praat2 --band-hz 7500 \
        --augment 4 --offsets 0 2 4 6 --features-cache build/v2/feats_praat2_b7500.npy \
        --channel-augment --lowpass-hz 3400 8000 --highpass-chance 0.2 \
        --weight lf0=9 --weight vuv=1 --weight ap=0.4 \
        --max-vectors 300000 --dim 128 --iters 6 --late-iters 3 \
        --subspace-from 4 --subspace-dims 24 --smooth 0.15 --postfilter-ridge 10 --seed 0 \
        --out qtok_widgets/codecs/data/builtin_v3.npz
"""

from __future__ import annotations

import argparse
import csv
import time
import zlib
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from qtok_widgets.audio import load_audio
from qtok_widgets.codecs import _world

N_LAYERS = 16
CODEBOOK_SIZE = 2048
#: Relative weight of each feature group in the squared error the codebooks minimise.
GROUP_WEIGHTS = {"lf0": 3.2, "vuv": 2.0, "sp": 1.0, "ap": 1.4}


def _warp(env: np.ndarray, alpha: float) -> np.ndarray:
    """Frequency-warp envelopes ``(n_sub, n_bins)``: new(f) = old(f / alpha)."""
    bins = np.arange(env.shape[1], dtype=np.float64)
    src = np.clip(bins / alpha, 0, env.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, env.shape[1] - 1)
    frac = src - lo
    return env[:, lo] * (1 - frac) + env[:, hi] * frac


def features_of(args: tuple[str, int, int, int, str, float]) -> list[np.ndarray]:
    """Sub-frame features of one file: the original plus ``n_aug`` augmented copies."""
    path, n_aug, n_sp, seed, f0_method, band_hz = args
    audio = load_audio(path, target_rate=_world.SAMPLE_RATE)
    samples = audio.samples
    peak = float(np.max(np.abs(samples)))
    if peak > 0:
        samples = samples * (0.5 / peak)
    n_frames = -(-samples.shape[0] // _world.SAMPLES_PER_FRAME)
    f0, sp, ap = _world.analyze_raw(samples, n_frames, f0_method)
    if band_hz > 0:
        # extrapolate the top band before warping, so that a warp cannot move a recording's
        # band edge below band_hz
        sp = _world.fill_high_band(np.maximum(sp, _world.SP_FLOOR), band_hz)
    out = [_world.pack(f0, sp, ap, n_sp, band_hz)]
    rng = np.random.default_rng([seed, zlib.crc32(Path(path).name.encode())])
    for _ in range(n_aug):
        f0_scale = float(np.exp(rng.uniform(np.log(0.7), np.log(1.45))))
        alpha = float(rng.uniform(0.85, 1.18))
        gain = float(10 ** (rng.uniform(-12, 6) / 10))
        f0_a = np.clip(f0 * f0_scale, 0, _world.F0_CEIL_HZ)
        out.append(_world.pack(f0_a, _warp(sp, alpha) * gain, _warp(ap, alpha), n_sp, band_hz))
    return out


def channel_augment(
    data: np.ndarray,
    n_sp: int,
    rng: np.random.Generator,
    block: int = 4096,
    band_hz: float = 0.0,
    lowpass_hz: tuple[float, float] = (4500.0, 8000.0),
    highpass_chance: float = 0.0,
) -> np.ndarray:
    """Give the synthetic frames the recording channels of real speech, per frame at random.

    Synthesised speech has digital silence, one spectral tilt per voice and a full band; real
    recordings have a noise floor, varied tilt and often a 16 kHz (8 kHz band) origin. Each
    frame's 8 envelopes are decoded, then (independently, with the given chances) tilted by
    -6..+3 dB per octave around 1 kHz (60 %), given a white noise floor between -93 and
    -60 dB (85 %), and band-limited with a steep low-pass between ``lowpass_hz`` (45 %) and,
    with chance ``highpass_chance``, a steep high-pass at 200-400 Hz (a telephone channel
    with a 3.4 kHz low-pass), and coded again (with ``band_hz > 0``, after
    :func:`~qtok_widgets.codecs._world.fill_high_band`, as the encoder does).
    """
    pw = _world.world()
    n_feat = 2 + n_sp + 3
    sub = _world.SUBFRAMES
    freqs = np.arange(_world.FFT_SIZE // 2 + 1) * (_world.SAMPLE_RATE / _world.FFT_SIZE)
    octaves = np.log2(np.maximum(freqs, 125.0) / 1000.0)
    out = data.copy()
    for start in range(0, data.shape[0], block):
        frames = out[start : start + block].reshape(-1, sub, n_feat)
        n = frames.shape[0]
        coded = np.ascontiguousarray(frames[:, :, 2 : 2 + n_sp].reshape(n * sub, n_sp), dtype=np.float64)
        env = pw.decode_spectral_envelope(coded, _world.SAMPLE_RATE, _world.FFT_SIZE).reshape(n, sub, -1)
        tilt_db = np.where(rng.random(n) < 0.6, rng.uniform(-6, 3, n), 0.0)
        env *= 10 ** (tilt_db[:, None, None] * octaves[None, None, :] / 10)
        floor = np.where(rng.random(n) < 0.85, 10 ** (rng.uniform(-93, -60, n) / 10), 0.0)
        env += floor[:, None, None]
        # band limit after the noise: a 16 kHz recording has nothing above its Nyquist band
        cutoff = np.where(rng.random(n) < 0.45, rng.uniform(*lowpass_hz, n), np.inf)
        env /= 1 + (freqs[None, None, :] / cutoff[:, None, None]) ** 48
        if highpass_chance > 0:
            # drawn only when asked for, so that models trained without it stay reproducible
            low = np.where(rng.random(n) < highpass_chance, rng.uniform(200, 400, n), 0.0)
            env /= 1 + (low[:, None, None] / np.maximum(freqs[None, None, :], 1.0)) ** 24
        env = np.maximum(env, _world.SP_FLOOR).reshape(n * sub, -1)
        if band_hz > 0:
            env = _world.fill_high_band(env, band_hz)
        recoded = pw.code_spectral_envelope(
            np.ascontiguousarray(env),
            _world.SAMPLE_RATE,
            n_sp,
        )
        frames[:, :, 2 : 2 + n_sp] = recoded.reshape(n, sub, n_sp)
        out[start : start + block] = frames.reshape(n, sub * n_feat)
    return out


def voice_augment(
    data: np.ndarray, n_sp: int, rng: np.random.Generator, ap_chance: float, fine_chance: float
) -> np.ndarray:
    """Give the synthetic frames the breathiness and formant detail of recorded voices.

    Diphone and HMM voices are more periodic and smoother than people: their coded
    aperiodicity sits far below 0 dB in voiced speech and their fine spectral envelope varies
    less from frame to frame. Per frame at random, (a) with chance ``ap_chance`` the coded
    aperiodicity (dB, all 3 bands) is scaled by 0.2-1, moving the frame towards the breathy
    voicing of recorded speech, and (b) with chance ``fine_chance`` the fine envelope (coded
    coefficients 10 and up, the formant detail) moves away from its corpus mean by a factor
    1-1.8.
    """
    n_feat = 2 + n_sp + 3
    sub = _world.SUBFRAMES
    frames = data.reshape(data.shape[0], sub, n_feat).copy()
    n = frames.shape[0]
    ap_scale = np.where(rng.random(n) < ap_chance, rng.uniform(0.2, 1.0, n), 1.0)
    frames[:, :, 2 + n_sp :] *= ap_scale[:, None, None]
    fine = slice(2 + 10, 2 + n_sp)
    centre = frames[:, :, fine].mean(axis=(0, 1))
    stretch = np.where(rng.random(n) < fine_chance, rng.uniform(1.0, 1.8, n), 1.0)
    frames[:, :, fine] = centre + (frames[:, :, fine] - centre) * stretch[:, None, None]
    return frames.reshape(data.shape)  # the in-place updates keep the input dtype


def stack(features: np.ndarray, offset: int) -> np.ndarray:
    """Frames of 8 sub-frames starting at sub-frame ``offset``: ``(n, 8 * n_feat)``."""
    sub = _world.SUBFRAMES
    usable = (features.shape[0] - offset) // sub
    return features[offset : offset + usable * sub].reshape(usable, sub * features.shape[1])


def group_scale(data: np.ndarray, n_sp: int, weights: dict[str, float] | None = None) -> np.ndarray:
    """Per-dimension weights: each group's dims share one scale, ``weight / rms std``
    (``weights`` defaults to :data:`GROUP_WEIGHTS`)."""
    weights = {**GROUP_WEIGHTS, **(weights or {})}
    n_feat = 2 + n_sp + 3
    groups = {"lf0": [0], "vuv": [1], "sp": list(range(2, 2 + n_sp)), "ap": list(range(2 + n_sp, n_feat))}
    var = data.var(axis=0)
    scale = np.zeros(data.shape[1])
    for name, cols in groups.items():
        idx = np.array([s * n_feat + c for s in range(_world.SUBFRAMES) for c in cols])
        scale[idx] = weights[name] / np.sqrt(var[idx].mean() + 1e-12)
    return scale


def kmeans(x, k: int, iters: int, gen, log_prefix: str):
    """Lloyd k-means on a float32 torch tensor ``(n, d)``; returns centroids ``(k, d)``."""
    import torch

    n = x.shape[0]
    centroids = x[torch.randperm(n, generator=gen)[:k]].clone()
    x_sq = (x * x).sum(1)
    for it in range(iters):
        assign, dist = _assign(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        empty = counts == 0
        centroids = sums / counts.clamp(min=1)[:, None]
        if empty.any():
            # re-seed empty clusters with the points worst served so far
            worst = torch.topk(dist, int(empty.sum())).indices
            centroids[empty] = x[worst]
        if it == iters - 1 or it % 4 == 0:
            print(
                f"{log_prefix} iter {it}: mse {float(dist.mean()) / x.shape[1]:.5f} empty {int(empty.sum())}",
                flush=True,
            )
    del x_sq
    return centroids


def subspace_kmeans(residual, dims: int, k: int, iters: int, gen, log_prefix: str):
    """k-means in the ``dims`` leading principal directions of ``residual`` ``(n, dim)``, lifted back.

    After a few layers the residual is close to white noise spread over all ``dim``
    dimensions, and one 2048-entry codebook over all of them removes little of it (an 11-bit
    quantiser of a white ``dim``-dimensional source lowers its error by a factor of about
    ``2 ** (-22 / dim)``, 11 % for 128). Spending the 11 bits on the directions where most of
    the residual still is removes much more. The codewords are returned as full
    ``(k, dim)`` vectors (the centroids times the basis), so a layer's codebook has the same
    shape and meaning as any other and the decoder does not know the difference.
    """
    import torch

    cov = torch.cov(residual[::3].T.double())
    eigval, eigvec = torch.linalg.eigh(cov)
    basis = eigvec[:, torch.argsort(eigval, descending=True)[:dims]].T.float().contiguous()  # (dims, dim)
    centroids = kmeans(residual @ basis.T, k, iters, gen, f"{log_prefix} (subspace {dims})")
    return centroids @ basis


def refine(latent, codebooks: np.ndarray, passes: int, log_prefix: str = "refine") -> np.ndarray:
    """Jointly improve greedy residual codebooks ``(16, 2048, dim)`` by block coordinate descent.

    Greedy training fits codebook ``l`` once, on what layers ``0..l-1`` left *before* the later
    layers existed. Each pass revisits the layers in order: layer ``l``'s target becomes the
    latent minus the codewords every other layer currently contributes, its codes are
    reassigned to the nearest codeword and its codewords are moved to the mean of their
    targets. Neither step can raise the training error, so it falls monotonically.
    """
    import torch

    books = torch.from_numpy(codebooks.copy())
    assign = []
    residual = latent.clone()
    for layer in range(books.shape[0]):
        idx, _ = _assign(residual, books[layer])
        residual -= books[layer][idx]
        assign.append(idx)
    for it in range(passes):
        for layer in range(books.shape[0]):
            target = residual + books[layer][assign[layer]]
            idx, _ = _assign(target, books[layer])
            sums = torch.zeros_like(books[layer]).index_add_(0, idx, target)
            counts = torch.bincount(idx, minlength=books.shape[1]).to(target.dtype)
            used = counts > 0
            books[layer][used] = sums[used] / counts[used][:, None]
            residual = target - books[layer][idx]
            assign[layer] = idx
        print(f"{log_prefix} pass {it}: residual energy {float((residual**2).sum(1).mean()):.4f}", flush=True)
    return books.numpy()


def _assign(x, centroids, block: int = 8192):
    import torch

    c_sq = (centroids * centroids).sum(1)
    assign = torch.empty(x.shape[0], dtype=torch.long)
    dist = torch.empty(x.shape[0], dtype=x.dtype)
    for s in range(0, x.shape[0], block):
        xb = x[s : s + block]
        d = c_sq[None, :] - 2.0 * xb @ centroids.T
        val, idx = d.min(1)
        assign[s : s + block] = idx
        dist[s : s + block] = (val + (xb * xb).sum(1)).clamp(min=0)
    return assign, dist


def training_files(args: argparse.Namespace) -> list[Path]:
    """The WAV/FLAC files to train on: the training side of ``--split`` in ``--corpus`` (or every
    WAV of a synthetic ``--corpus``), plus ``--extra-corpus``, cut to ``--max-files``."""
    if args.split is not None:
        # real speech: the training side of a speaker split (scripts/split_builtin_speech.py)
        with open(args.split, newline="") as fh:
            files = [args.corpus / r["file"] for r in csv.DictReader(fh) if r["side"] == "train"]
    else:
        files = sorted(args.corpus.glob("*.wav"))
    files += sorted(args.extra_corpus.glob("*.wav"))[: args.extra_files or None] if args.extra_corpus else []
    if args.max_files:
        files = files[: args.max_files]
    if not files:
        raise SystemExit(f"no WAV files in {args.corpus}: run scripts/make_builtin_corpus.py first")
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise SystemExit(f"{missing[0]}: no such file ({len(missing)} of the split's files are missing)")
    return files


def fit_postfilter(model_path: Path, files: list[Path], args: argparse.Namespace, ridge: float) -> np.ndarray:
    """Least-squares post-filter ``(3 * dim + 1, dim)`` for a written model (see
    ``BuiltinModel.postfiltered``): on the training files as recorded (no augmentation), each
    frame's latent minus its decoded codewords, regressed on the decoded codewords of the frame
    and its two neighbours (and a constant), with ridge penalty ``ridge`` on the weights."""
    from qtok_widgets.codecs.builtin import BuiltinCodec, postfilter_inputs

    codec = BuiltinCodec(model_path=model_path)
    model = codec.model
    jobs = [(str(f), 0, args.n_sp, args.seed, args.f0_method, args.band_hz) for f in files]
    inputs, targets = [], []
    with get_context("fork").Pool(args.jobs) as pool:
        for feats in pool.imap(features_of, jobs, chunksize=2):
            latent = model.to_latent(feats[0])
            codes, _ = codec.quantize_beam(latent)
            decoded = codec._latent_of(codes, np.zeros(codes.shape, dtype=bool), 0, codes.shape[1])
            inputs.append(postfilter_inputs(decoded))
            targets.append(latent - decoded)
    x = np.concatenate(inputs).astype(np.float64)
    y = np.concatenate(targets).astype(np.float64)
    gram = x.T @ x + ridge * np.diag(np.r_[np.ones(x.shape[1] - 1), 0.0])
    weights = np.linalg.solve(gram, x.T @ y)
    before, after = float((y**2).sum(1).mean()), float(((y - x @ weights) ** 2).sum(1).mean())
    print(f"post-filter on {x.shape[0]} frames: residual energy {before:.4f} -> {after:.4f}", flush=True)
    return weights.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("build/builtin_corpus"))
    parser.add_argument("--out", type=Path, default=Path("qtok_widgets/codecs/data/builtin_v3.npz"))
    parser.add_argument("--max-files", type=int, default=0, help="use only the first N files (0 = all)")
    parser.add_argument("--augment", type=int, default=3, help="augmented copies per file")
    parser.add_argument(
        "--offsets", type=int, nargs="+", default=[0, 4], help="sub-frame offsets to stack at"
    )
    parser.add_argument("--n-sp", type=int, default=40)
    parser.add_argument("--dim", type=int, default=160)
    parser.add_argument("--iters", type=int, default=12)
    parser.add_argument("--max-vectors", type=int, default=400_000, help="draw at most this many (0 = all)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--channel-augment", action="store_true", help="noise floor, tilt, band limit")
    parser.add_argument(
        "--lowpass-hz",
        type=float,
        nargs=2,
        default=[4500.0, 8000.0],
        metavar=("LOW", "HIGH"),
        help="range of the channel augmentation's low-pass cutoffs",
    )
    parser.add_argument(
        "--highpass-chance",
        type=float,
        default=0.0,
        help="share of frames the channel augmentation also high-passes at 200-400 Hz",
    )
    parser.add_argument(
        "--voice-augment",
        type=float,
        nargs=2,
        default=None,
        metavar=("AP_CHANCE", "FINE_CHANCE"),
        help="breathier aperiodicity / richer formant detail in this share of frames",
    )
    parser.add_argument(
        "--late-iters", type=int, default=0, help="k-means iterations above layer 3 (0 = --iters)"
    )
    parser.add_argument(
        "--subspace-from",
        type=int,
        default=N_LAYERS,
        help="fit this layer and the later ones in a principal subspace of their residual (16 = none)",
    )
    parser.add_argument(
        "--subspace-dims",
        type=int,
        nargs="+",
        default=[24],
        help="dimensions of those subspaces, one per layer from --subspace-from (the last repeats)",
    )
    parser.add_argument(
        "--smooth",
        type=float,
        default=0.25,
        help="the decoder's smoothing weight of log-F0 and aperiodicity, stored in the model file",
    )
    parser.add_argument(
        "--postfilter-ridge",
        type=float,
        default=0.0,
        help="fit the decoder's post-filter with this ridge penalty (0 = no post-filter)",
    )
    parser.add_argument(
        "--refine-passes", type=int, default=0, help="joint passes over all codebooks after greedy fitting"
    )
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="GROUP=W",
        help=f"override a feature group's weight (groups and defaults: {GROUP_WEIGHTS})",
    )
    parser.add_argument(
        "--split",
        type=Path,
        default=None,
        help="speaker split CSV (benchmarks/builtin_speech_split.csv): train on its training side of --corpus",
    )
    parser.add_argument("--extra-corpus", type=Path, default=None, help="also train on this folder's WAVs")
    parser.add_argument("--extra-files", type=int, default=0, help="how many of --extra-corpus (0 = all)")
    parser.add_argument("--f0-method", choices=_world.F0_METHODS, default=_world.F0_METHOD)
    parser.add_argument(
        "--band-hz",
        type=float,
        default=0.0,
        help="extrapolate the envelope above this frequency instead of coding it (0 = code it all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--features-cache", type=Path, default=None, help="reuse/write stacked features here (.npy)"
    )
    args = parser.parse_args()
    weights = {}
    for item in args.weight:
        name, _, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = 0.0
        if name not in GROUP_WEIGHTS or not weight > 0:
            parser.error(
                f"--weight {item}: want GROUP=W with GROUP one of {', '.join(GROUP_WEIGHTS)} and W > 0"
            )
        weights[name] = weight

    import torch

    torch.manual_seed(args.seed)
    t0 = time.time()
    if args.features_cache and args.features_cache.exists():
        data = np.load(args.features_cache, allow_pickle=False)
        print(f"loaded {data.shape} features from {args.features_cache}")
    else:
        files = training_files(args)
        jobs = [(str(f), args.augment, args.n_sp, args.seed, args.f0_method, args.band_hz) for f in files]
        frames = []
        with get_context("fork").Pool(args.jobs) as pool:
            for i, feats in enumerate(pool.imap(features_of, jobs, chunksize=2)):
                for f in feats:
                    for off in args.offsets:
                        frames.append(stack(f, off).astype(np.float32))
                if i % 50 == 0:
                    print(f"analysed {i + 1}/{len(files)} files, {time.time() - t0:.0f}s", flush=True)
        data = np.concatenate(frames)
        if args.features_cache:
            np.save(args.features_cache, data)
    print(f"{data.shape[0]} frame vectors of {data.shape[1]} dims ({time.time() - t0:.0f}s)")
    rng = np.random.default_rng(args.seed)
    if 0 < args.max_vectors < data.shape[0]:
        data = data[np.sort(rng.choice(data.shape[0], args.max_vectors, replace=False))]
    if args.channel_augment:
        data = channel_augment(
            data,
            args.n_sp,
            rng,
            band_hz=args.band_hz,
            lowpass_hz=tuple(args.lowpass_hz),
            highpass_chance=args.highpass_chance,
        )
        print(f"channel augmentation done ({time.time() - t0:.0f}s)", flush=True)
    if args.voice_augment:
        data = voice_augment(data, args.n_sp, rng, *args.voice_augment)

    mean = data.mean(axis=0).astype(np.float64)
    scale = group_scale(data, args.n_sp, weights)
    weighted = ((data - mean) * scale).astype(np.float32)
    cov = np.cov(weighted[:: max(1, weighted.shape[0] // 100_000)].T.astype(np.float64))
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    components = eigvec[:, order[: args.dim]].T
    # fix each component's sign so the result does not depend on the LAPACK build
    components *= np.sign(components[np.arange(args.dim), np.argmax(np.abs(components), axis=1)])[:, None]
    kept = eigval[order[: args.dim]].sum() / eigval.sum()
    print(f"PCA: {args.dim} of {weighted.shape[1]} dims keep {kept:.4f} of the weighted variance")
    latent = torch.from_numpy(weighted @ components.T.astype(np.float32))

    gen = torch.Generator().manual_seed(args.seed)
    codebooks = np.zeros((N_LAYERS, CODEBOOK_SIZE, args.dim), dtype=np.float32)
    residual = latent.clone()
    for layer in range(N_LAYERS):
        iters = args.iters if layer < 4 or not args.late_iters else args.late_iters
        if layer >= args.subspace_from:
            dims = args.subspace_dims[min(layer - args.subspace_from, len(args.subspace_dims) - 1)]
            centroids = subspace_kmeans(residual, dims, CODEBOOK_SIZE, iters, gen, f"layer {layer:2d}")
        else:
            centroids = kmeans(residual, CODEBOOK_SIZE, iters, gen, f"layer {layer:2d}")
        assign, _ = _assign(residual, centroids)
        residual -= centroids[assign]
        codebooks[layer] = centroids.numpy()
        print(
            f"layer {layer:2d}: residual energy {float((residual**2).sum(1).mean()):.4f} ({time.time() - t0:.0f}s)",
            flush=True,
        )
    if args.refine_passes:
        codebooks = refine(latent, codebooks, args.refine_passes)
        print(f"refined ({time.time() - t0:.0f}s)", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    arrays = dict(
        n_sp=np.int64(args.n_sp),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        components=components.astype(np.float32),
        codebooks=codebooks.astype(np.float16),
        f0_method=np.str_(args.f0_method),
        band_hz=np.float64(args.band_hz),
        smooth_f0_ap=np.float64(args.smooth),
        info_vectors=np.int64(data.shape[0]),
        info_seed=np.int64(args.seed),
        info_subspace_from=np.int64(args.subspace_from),
        info_subspace_dims=np.asarray(args.subspace_dims, dtype=np.int64),
    )
    np.savez_compressed(args.out, **arrays)
    if args.postfilter_ridge > 0:
        # the post-filter is fitted with the written codebooks, then stored beside them
        arrays["postfilter"] = fit_postfilter(args.out, training_files(args), args, args.postfilter_ridge)
        arrays["info_postfilter_ridge"] = np.float64(args.postfilter_ridge)
        np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MB) in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
