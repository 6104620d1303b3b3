"""Streaming Qwen 12 Hz decoding with explicit, cloneable state.

:class:`StreamingDecoder` runs the qwen-tts ``Qwen3TTSTokenizerV2Decoder`` (after the code
embeddings) a few frames at a time and keeps, in a :class:`DecoderState`, exactly what the
next frames need from the past: the frame position (for the rotary embedding), each
transformer layer's keys and values for the last ``sliding_window - 1`` frames, the last
``(kernel - 1) * dilation`` inputs of every causal convolution and the last inputs of every
transposed convolution whose kernel is longer than its stride (its overlap). Decoding a
sequence in steps gives the whole-sequence decode up to float rounding (the attention sums
run over the window instead of the masked full matrix), see docs/qwen_backend.md.

A state can be cloned and stored as a checkpoint; decoding on from a restored clone gives the
same samples as decoding on from the original. The decoder's modules are used as they are;
nothing here changes the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DecoderState",
    "StateSnapshot",
    "StreamingDecoder",
    "post_transformer_history_frames",
    "snapshot_nbytes",
    "state_nbytes",
]


@dataclass
class DecoderState:
    """Everything the decoder carries from frames already decoded to the next ones.

    Attributes
    ----------
    position : int
        Frames decoded so far (the next frame's rotary position).
    kv : list of tuple of torch.Tensor
        Per transformer layer, keys and values after the rotary embedding, each
        ``(1, n_kv_heads, min(position, sliding_window - 1), head_dim)``.
    history : dict of str to torch.Tensor
        Per causal convolution (and transposed convolution with overlap), its last inputs,
        ``(1, channels, n)``; absent until the first step.
    """

    position: int = 0
    kv: list[tuple[Any, Any]] = field(default_factory=list)
    history: dict[str, Any] = field(default_factory=dict)

    def clone(self) -> DecoderState:
        """A deep copy: tensors are copied, so stepping either state leaves the other alone."""
        return DecoderState(
            self.position,
            [(k.clone(), v.clone()) for k, v in self.kv],
            {name: t.clone() for name, t in self.history.items()},
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the state's tensors, in bytes."""
        total = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in self.kv)
        return total + sum(t.numel() * t.element_size() for t in self.history.values())

    def equals(self, other: DecoderState) -> bool:
        """True when both states hold the same position and bit-identical tensors."""
        import torch

        return (
            self.position == other.position
            and len(self.kv) == len(other.kv)
            and all(
                torch.equal(a, c) and torch.equal(b, d)
                for (a, b), (c, d) in zip(self.kv, other.kv, strict=True)
            )
            and self.history.keys() == other.history.keys()
            and all(torch.equal(t, other.history[name]) for name, t in self.history.items())
        )


@dataclass(frozen=True)
class StateSnapshot:
    """A stored :class:`DecoderState` whose keys and values are shared with earlier snapshots.

    Consecutive checkpoints of one stream ``interval`` frames apart hold mostly the same
    ``sliding_window - 1`` frames of keys and values; a snapshot keeps them as a list of
    segments per layer, oldest first, reusing the previous snapshot's segments and copying
    only the frames decoded since. Segments are never modified, so snapshots share them
    safely. :meth:`restore` rebuilds a state bit-identical to the one snapshotted.

    Attributes
    ----------
    position : int
        Frames decoded when the snapshot was taken.
    kv : tuple of tuple of tuple of torch.Tensor
        Per layer, ``((k, v), ...)`` segments ``(1, n_kv_heads, n, head_dim)``, oldest first,
        covering at least the state's ``min(position, sliding_window - 1)`` frames.
    history : dict of str to torch.Tensor
        Copies of the state's convolution histories.
    keep : int
        ``sliding_window - 1``: frames of keys and values a state holds at most.
    """

    position: int
    kv: tuple[tuple[tuple[Any, Any], ...], ...]
    history: dict[str, Any]
    keep: int

    def restore(self) -> DecoderState:
        """A new state equal to the one snapshotted (its tensors are new copies)."""
        import torch

        kv = []
        for segments in self.kv:
            k = torch.cat([a for a, _ in segments], dim=2)[:, :, -self.keep :].clone()
            v = torch.cat([b for _, b in segments], dim=2)[:, :, -self.keep :].clone()
            kv.append((k, v))
        return DecoderState(self.position, kv, {n: t.clone() for n, t in self.history.items()})

    def tensors(self) -> list[Any]:
        """Every tensor the snapshot holds (shared segments included)."""
        out = [t for segments in self.kv for pair in segments for t in pair]
        return out + list(self.history.values())

    @property
    def nbytes(self) -> int:
        """Memory of all the tensors the snapshot refers to, shared segments included."""
        return sum(t.numel() * t.element_size() for t in self.tensors())


def snapshot(state: DecoderState, keep: int, previous: StateSnapshot | None = None) -> StateSnapshot:
    """Store ``state``, sharing key/value segments with ``previous`` (an earlier snapshot of the
    same stream, which ``state`` was decoded on from) where they still lie in the window.

    Parameters
    ----------
    state : DecoderState
    keep : int
        ``sliding_window - 1``.
    previous : StateSnapshot, optional
        Must describe this stream ``state.position - previous.position`` frames earlier.

    Returns
    -------
    StateSnapshot
    """
    history = {name: t.clone() for name, t in state.history.items()}
    if not state.kv or state.kv[0][0] is None:
        return StateSnapshot(state.position, (), history, keep)
    new = state.position - (previous.position if previous is not None else 0)
    if previous is None or not previous.kv or not 0 < new < keep:
        kv = tuple(((k.clone(), v.clone()),) for k, v in state.kv)
        return StateSnapshot(state.position, kv, history, keep)
    layers = []
    for segments, (k, v) in zip(previous.kv, state.kv, strict=True):
        kept = [*segments, (k[:, :, -new:].clone(), v[:, :, -new:].clone())]
        # drop the oldest segments the window no longer needs
        while len(kept) > 1 and sum(int(a.shape[2]) for a, _ in kept[1:]) >= keep:
            kept.pop(0)
        layers.append(tuple(kept))
    return StateSnapshot(state.position, tuple(layers), history, keep)


def snapshot_nbytes(decoder: Any, interval: int, dtype_size: int = 4) -> int:
    """Bytes one checkpoint adds when checkpoints are ``interval`` frames apart in a stream:
    the convolution histories plus ``min(interval, sliding_window - 1)`` frames of keys and
    values (the rest of the window is shared with the checkpoints before it)."""
    cfg = decoder.config
    window = int(cfg.sliding_window) - 1
    per_frame = state_nbytes(decoder, dtype_size) - _conv_nbytes(decoder, dtype_size)
    return _conv_nbytes(decoder, dtype_size) + per_frame * min(int(interval), window) // window


def _conv_nbytes(decoder: Any, dtype_size: int) -> int:
    return sum(c * n for _, c, n in _stateful_layers(decoder)) * dtype_size


def state_nbytes(decoder: Any, dtype_size: int = 4) -> int:
    """Bytes of a full :class:`DecoderState` (one past ``sliding_window`` frames) for ``decoder``.

    Computed from the configuration, so memory budgets can be set before decoding anything.
    """
    cfg = decoder.config
    window = int(cfg.sliding_window) - 1
    head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads)
    kv = int(cfg.num_hidden_layers) * 2 * int(cfg.num_key_value_heads) * window * head_dim
    conv = sum(c * n for _, c, n in _stateful_layers(decoder))
    return (kv + conv) * dtype_size


def _stateful_layers(decoder: Any) -> list[tuple[str, int, int]]:
    """``(name, channels, history length)`` of every convolution that carries state."""
    out = []
    for name, module in decoder.named_modules():
        kind = type(module).__name__
        if kind.endswith("CausalConvNet") and module.kernel_size > 1:
            out.append((name, module.conv.in_channels, module.kernel_size - 1))
        elif kind.endswith("CausalTransConvNet"):
            overlap = _overlap_inputs(module)
            if overlap:
                out.append((name, module.conv.in_channels, overlap))
    return out


def _overlap_inputs(module: Any) -> int:
    """Previous inputs a transposed convolution's output slots still receive: ``ceil((k - s) / s)``."""
    kernel, stride = int(module.conv.kernel_size[0]), int(module.conv.stride[0])
    return -(-(kernel - stride) // stride)


class StreamingDecoder:
    """Step the qwen-tts 12 Hz decoder through latent frames, keeping its causal state.

    Parameters
    ----------
    decoder : Qwen3TTSTokenizerV2Decoder
        ``model.decoder`` of a loaded 12 Hz tokenizer (used as is, in eval mode).

    Notes
    -----
    Every convolution of the decoder has stride 1 (checked), so a causal convolution over
    ``history + new`` inputs without padding gives exactly the new outputs; a transposed
    convolution with kernel ``2 * stride`` gets its previous input prepended and the first
    ``stride`` outputs dropped. The first step starts from zero histories, as the library's
    left zero padding does.
    """

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        cfg = decoder.config
        self.window = int(cfg.sliding_window)
        transformer = decoder.pre_transformer
        self.n_layers = len(transformer.layers)
        attn = transformer.layers[0].self_attn
        self.head_dim = int(attn.head_dim)
        self.kv_groups = int(attn.num_key_value_groups)
        self.scaling = float(attn.scaling)
        self.samples_per_frame = int(decoder.total_upsample)
        for name, module in decoder.named_modules():
            if type(module).__name__.endswith("CausalConvNet") and module.stride != 1:
                msg = f"{name}: strided causal convolution; streaming supports stride 1 only"
                raise ValueError(msg)

    def initial_state(self) -> DecoderState:
        """The state before the first frame: position 0, empty caches, zero histories."""
        return DecoderState()

    def step(self, state: DecoderState, latent: Any) -> Any:
        """Decode the next frames and advance ``state`` in place.

        Parameters
        ----------
        state : DecoderState
            Updated to include these frames.
        latent : torch.Tensor
            ``(1, codebook_dim, n)``: the summed code embeddings of ``n >= 1`` frames (as
            ``decoder.quantizer.decode`` gives them).

        Returns
        -------
        torch.Tensor
            ``(n * samples_per_frame,)`` samples, clamped to [-1, 1].
        """
        decoder = self.decoder
        hidden = self._conv(decoder.pre_conv, "pre_conv", latent, state)
        hidden = self._transformer(hidden.transpose(1, 2), state).permute(0, 2, 1)
        for i, blocks in enumerate(decoder.upsample):
            hidden = self._trans_conv(blocks[0], f"upsample.{i}.0", hidden, state)
            hidden = self._convnext(blocks[1], f"upsample.{i}.1", hidden, state)
        wav = hidden
        for i, block in enumerate(decoder.decoder):
            wav = self._module(block, f"decoder.{i}", wav, state)
        state.position += int(latent.shape[-1])
        return wav.clamp(min=-1, max=1)[0, 0]

    # ------------------------------------------------------------------ pieces
    def _module(self, module: Any, name: str, x: Any, state: DecoderState) -> Any:
        kind = type(module).__name__
        if kind.endswith("CausalConvNet"):
            return self._conv(module, name, x, state)
        if kind.endswith("CausalTransConvNet"):
            return self._trans_conv(module, name, x, state)
        if kind.endswith("DecoderDecoderBlock"):
            for j, part in enumerate(module.block):
                x = self._module(part, f"{name}.block.{j}", x, state)
            return x
        if kind.endswith("ResidualUnit"):
            y = module.act1(x)
            y = self._conv(module.conv1, f"{name}.conv1", y, state)
            y = module.act2(y)
            y = self._conv(module.conv2, f"{name}.conv2", y, state)
            return y + x
        return module(x)  # pointwise (SnakeBeta)

    def _conv(self, module: Any, name: str, x: Any, state: DecoderState) -> Any:
        import torch

        keep = int(module.kernel_size) - 1
        if keep == 0:
            return module.conv(x).contiguous()
        past = state.history.get(name)
        if past is None:
            past = x.new_zeros((x.shape[0], x.shape[1], keep))
        joined = torch.cat([past, x], dim=-1)
        state.history[name] = joined[..., -keep:]
        return module.conv(joined).contiguous()

    def _trans_conv(self, module: Any, name: str, x: Any, state: DecoderState) -> Any:
        import torch

        overlap = _overlap_inputs(module)
        stride = int(module.conv.stride[0])
        n = int(x.shape[-1])
        if overlap == 0:
            out = module.conv(x)
            return out[..., : n * stride].contiguous()
        past = state.history.get(name)
        if past is None:
            past = x.new_zeros((x.shape[0], x.shape[1], overlap))
        joined = torch.cat([past, x], dim=-1)
        state.history[name] = joined[..., -overlap:]
        out = module.conv(joined)
        return out[..., overlap * stride : (overlap + n) * stride].contiguous()

    def _convnext(self, module: Any, name: str, x: Any, state: DecoderState) -> Any:
        y = self._conv(module.dwconv, f"{name}.dwconv", x, state)
        y = y.permute(0, 2, 1)
        y = module.pwconv2(module.act(module.pwconv1(module.norm(y))))
        y = (module.gamma * y).permute(0, 2, 1)
        return x + y

    def _transformer(self, x: Any, state: DecoderState) -> Any:
        """``pre_transformer`` on ``(1, n, latent_dim)`` with the sliding-window KV cache."""
        import torch
        from torch.nn import functional

        model = self.decoder.pre_transformer
        n = int(x.shape[1])
        hidden = model.input_proj(x)
        positions = torch.arange(state.position, state.position + n, device=x.device)[None]
        cos, sin = model.rotary_emb(hidden, positions)
        cos, sin = cos[:, None], sin[:, None]
        keep = self.window - 1
        if not state.kv:
            state.kv = [(None, None)] * self.n_layers
        past_len = 0 if state.kv[0][0] is None else int(state.kv[0][0].shape[2])
        q_pos = torch.arange(n, device=x.device)[:, None] + past_len
        k_pos = torch.arange(past_len + n, device=x.device)[None, :]
        allowed = (k_pos <= q_pos) & (k_pos > q_pos - self.window)
        for i, layer in enumerate(model.layers):
            attn = layer.self_attn
            residual = hidden
            y = layer.input_layernorm(hidden)
            q = attn.q_proj(y).view(1, n, -1, self.head_dim).transpose(1, 2)
            k = attn.k_proj(y).view(1, n, -1, self.head_dim).transpose(1, 2)
            v = attn.v_proj(y).view(1, n, -1, self.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            past_k, past_v = state.kv[i]
            if past_k is not None:
                k = torch.cat([past_k, k], dim=2)
                v = torch.cat([past_v, v], dim=2)
            state.kv[i] = (k[:, :, -keep:], v[:, :, -keep:])
            if self.kv_groups > 1:
                k = k.repeat_interleave(self.kv_groups, dim=1)
                v = v.repeat_interleave(self.kv_groups, dim=1)
            out = functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=self.scaling)
            out = attn.o_proj(out.transpose(1, 2).reshape(1, n, -1))
            hidden = residual + layer.self_attn_layer_scale(out)
            residual = hidden
            hidden = residual + layer.mlp_layer_scale(layer.mlp(layer.post_attention_layernorm(hidden)))
        return model.output_proj(model.norm(hidden))


def _rotate_half(x: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def post_transformer_history_frames(decoder: Any) -> float:
    """Frames of past input the convolutions after the transformer see, summed along the path.

    Each causal convolution of ``kernel`` (dilated) looks ``kernel - 1`` samples back at its
    own rate, and a transposed convolution with overlap its overlap in input samples; the sum
    over the upsampling stages and the convolutional decoder, in frames, is how far the audio
    of one frame reaches back behind the transformer's output.
    """
    rate = 1.0  # samples per frame at the current layer's input
    total = 0.0
    for blocks in decoder.upsample:
        rate *= int(blocks[0].conv.stride[0])
        total += (int(blocks[1].dwconv.kernel_size) - 1) / rate
    for block in decoder.decoder:
        kind = type(block).__name__
        if kind.endswith("CausalConvNet"):
            total += (int(block.kernel_size) - 1) / rate
        elif kind.endswith("DecoderDecoderBlock"):
            for part in block.block:
                name = type(part).__name__
                if name.endswith("CausalTransConvNet"):
                    total += _overlap_inputs(part) / rate
                    rate *= int(part.conv.stride[0])
                elif name.endswith("ResidualUnit"):
                    total += (int(part.conv1.kernel_size) - 1) / rate
    return total
