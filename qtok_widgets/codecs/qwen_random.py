"""Seeded random Qwen3-TTS-Tokenizer-12Hz checkpoints that load like the real one.

:func:`build_random_checkpoint` writes ``config.json``, ``model.safetensors`` and
``preprocessor_config.json`` for the real qwen-tts model classes with seeded random weights:
``"tiny"`` (a few MB, built in seconds) for tests that must run the real model code without
downloading anything, ``"released"`` (the published architecture, ~680 MB) for benchmarks.
The result loads with ``QwenCodec(path=folder)`` or ``load_codec(folder)``; the codes it makes
mean nothing.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from pathlib import Path
from typing import Any

from ..errors import CodecError

__all__ = ["PRESETS", "build_random_checkpoint"]

_MIMI_TINY = {
    "hidden_size": 32,
    "num_filters": 8,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 64,
    "upsample_groups": 32,
    "codebook_dim": 16,
    "vector_quantization_hidden_dimension": 16,
    "num_quantizers": 16,
}
# Encoder sizes of the published checkpoint (MimiConfig keys).
_MIMI_RELEASED = {
    "hidden_size": 512,
    "num_filters": 64,
    "num_hidden_layers": 8,
    "num_attention_heads": 8,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "intermediate_size": 2048,
    "upsample_groups": 512,
    "codebook_dim": 256,
    "vector_quantization_hidden_dimension": 256,
    "num_quantizers": 32,
    "sliding_window": 250,
}
_MIMI_COMMON = {
    "sampling_rate": 24000,
    "frame_rate": 12.5,
    "audio_channels": 1,
    "codebook_size": 2048,
    "upsampling_ratios": [8, 6, 5, 4],
    "use_causal_conv": True,
    "num_semantic_quantizers": 1,
    "kernel_size": 7,
    "last_kernel_size": 3,
    "residual_kernel_size": 3,
    "num_residual_layers": 1,
    "compress": 2,
    "hidden_act": "gelu",
    "pad_mode": "constant",
    "use_cache": False,
}
_DECODER_TINY = {
    "codebook_dim": 32,
    "latent_dim": 48,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "num_hidden_layers": 2,
    "decoder_dim": 16,
}
# Decoder sizes of the published checkpoint; hidden_size, intermediate_size and head_dim differ
# from the defaults of Qwen3TTSTokenizerV2DecoderConfig.
_DECODER_RELEASED = {
    "codebook_dim": 512,
    "latent_dim": 1024,
    "hidden_size": 512,
    "intermediate_size": 1024,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "head_dim": 64,
    "num_hidden_layers": 8,
    "decoder_dim": 1536,
}
_DECODER_COMMON = {
    "codebook_size": 2048,
    "num_quantizers": 16,
    "sliding_window": 72,
    "max_position_embeddings": 8000,
    "rope_theta": 10000,
    "rms_norm_eps": 1e-5,
    "layer_scale_initial_scale": 0.01,
    "hidden_act": "silu",
    "upsample_rates": [8, 5, 4, 3],
    "upsampling_ratios": [2, 2],
}

#: Architecture presets for :func:`build_random_checkpoint`: ``(encoder, decoder)`` config dicts.
PRESETS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "tiny": ({**_MIMI_COMMON, **_MIMI_TINY}, {**_DECODER_COMMON, **_DECODER_TINY}),
    "released": ({**_MIMI_COMMON, **_MIMI_RELEASED}, {**_DECODER_COMMON, **_DECODER_RELEASED}),
}


def build_random_checkpoint(directory: str | os.PathLike[str], preset: str = "tiny", seed: int = 0) -> Path:
    """Write a seeded random Qwen3-TTS-Tokenizer-12Hz checkpoint that loads like the real one.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder to write ``config.json``, ``model.safetensors`` and ``preprocessor_config.json``
        into (created if needed).
    preset : {"tiny", "released"}
        ``"tiny"``: small encoder and decoder (0.85 M parameters plus 0.56 M encoder codebook
        entries, 5.6 MB; builds in seconds). ``"released"``: the published checkpoint's sizes (about 154 M
        parameters, ~680 MB), for benchmarks. See :data:`PRESETS` and docs/qwen_backend.md.
    seed : int
        Same seed, same weights.

    Returns
    -------
    pathlib.Path
        ``directory``, ready for ``QwenCodec(path=directory)`` or ``load_codec(directory)``.

    Notes
    -----
    The model classes leave every codebook at zero (encoder ``embed_sum`` buffers, decoder
    ``embedding_sum`` parameters), which would make every code the same; they are filled with
    seeded Gaussian vectors here, scaled to the encoder's features, so codes vary with the
    audio. Decoder weights are re-drawn with variance ``1 / fan_in`` so decoded audio has a
    usable level instead of vanishing through the stack.
    """
    if preset not in PRESETS:
        msg = f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}"
        raise CodecError(msg)
    import torch
    from torch import nn
    from transformers import EncodecFeatureExtractor

    from ._qwen_import import import_tokenizer_12hz

    config_mod, modeling_mod = import_tokenizer_12hz()
    encoder_cfg, decoder_cfg = PRESETS[preset]
    config = config_mod.Qwen3TTSTokenizerV2Config(
        encoder_config=dict(encoder_cfg),
        decoder_config=dict(decoder_cfg),
        encoder_valid_num_quantizers=16,
        input_sample_rate=24000,
        output_sample_rate=24000,
        decode_upsample_rate=1920,
        encode_downsample_rate=1920,
    )
    config.architectures = ["Qwen3TTSTokenizerV2Model"]
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = modeling_mod.Qwen3TTSTokenizerV2Model(config).eval()
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            for module in model.decoder.modules():
                if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d, nn.Linear)):
                    weight = module.weight
                    fan_in = (
                        weight[0].numel()
                        if isinstance(module, (nn.Conv1d, nn.Linear))
                        else weight.shape[0] * weight.shape[2] // module.stride[0]
                    )
                    weight.copy_(torch.randn(weight.shape, generator=gen) / math.sqrt(max(1, fan_in)))
            _fill_encoder_codebooks(model, gen)
            for rvq in (model.decoder.quantizer.rvq_first, model.decoder.quantizer.rvq_rest):
                for j, layer in enumerate(rvq.vq.layers):
                    book = layer._codebook
                    book.embedding_sum.copy_(torch.randn(book.embedding_sum.shape, generator=gen) / (1.0 + j))
            _set_output_level(model, gen)
    finally:
        torch.random.set_rng_state(state)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        model.save_pretrained(str(folder), safe_serialization=True)
        EncodecFeatureExtractor(feature_size=1, sampling_rate=24000).save_pretrained(str(folder))
    return folder


def _round_sig(value: float) -> float:
    """``value`` to 3 significant digits, so that convolution back-ends that differ in the last
    bits (oneDNN on or off, CPU or GPU) still build byte-identical checkpoints."""
    return float(f"{value:.3g}")


def _set_output_level(model: Any, gen: Any, rms: float = 0.1) -> None:
    """Scale the decoder's last convolution so random codes decode to about ``rms`` RMS."""
    import torch

    decoder = model.decoder
    codes = torch.randint(
        0, decoder.config.codebook_size, (1, decoder.config.num_quantizers, 8), generator=gen
    )
    last = decoder.decoder[-1].conv
    last.weight.mul_(0.01)  # measure well inside the clamp
    level = float(decoder(codes).pow(2).mean().sqrt())
    if level > 0:
        last.weight.mul_(_round_sig(rms / level))
    if last.bias is not None:
        last.bias.zero_()


def _fill_encoder_codebooks(model: Any, gen: Any) -> None:
    """Seed the encoder's zero codebooks from its own features on a fixed synthetic signal."""
    import torch

    encoder = model.encoder
    t = torch.arange(24000 * 2, dtype=torch.float32) / 24000
    signal = 0.3 * torch.sin(2 * math.pi * (120 + 200 * t) * t) + 0.05 * torch.randn(t.shape, generator=gen)
    emb = encoder.encoder(signal[None, None])
    emb = encoder.encoder_transformer(emb.transpose(1, 2), return_dict=True)[0].transpose(1, 2)
    emb = encoder.downsample(emb)
    for rvq in (
        encoder.quantizer.semantic_residual_vector_quantizer,
        encoder.quantizer.acoustic_residual_vector_quantizer,
    ):
        feats = rvq.input_proj(emb) if rvq.input_proj is not None else emb
        scale = _round_sig(float(feats.std())) or 1.0
        for j, layer in enumerate(rvq.layers):
            book = layer.codebook
            book.embed_sum.copy_(torch.randn(book.embed_sum.shape, generator=gen) * scale / (1.0 + j))
            book._embed = None
