"""The edit engine as pure functions: each takes a CodeGrid and returns a new, edited one.

Each function (:func:`mask`, :func:`unmask`, :func:`replace`, :func:`replace_code`,
:func:`splice`, :func:`interpolate`, :func:`randomize`, :func:`delete_frames`,
:func:`duplicate_frames`) builds the operation of the same name from :mod:`qtok_widgets.ops`
and applies it with :func:`apply`: the operation validates its arguments, never mutates its
input and raises :class:`~qtok_widgets.errors.EditError` (a ``ValueError``) with one line
naming the problem and the valid range. :class:`~qtok_widgets.session.EditSession` applies the
same operations and keeps their :class:`~qtok_widgets.delta.Delta` as its undo history.

The mask is a mute flag kept beside the codes: :func:`mask` and :func:`unmask` change only the
mask, the code operations (replace, replace_code, interpolate, randomize) change only codes,
and splice and the timing edits move both.
"""

from __future__ import annotations

from typing import Any

from . import ops
from .delta import Delta
from .grid import CodeGrid
from .ops import SPLICE_MODES, InterpolateResult
from .selection import IndexSpec, Selection, select

__all__ = [
    "SPLICE_MODES",
    "Delta",
    "InterpolateResult",
    "Selection",
    "apply",
    "delete_frames",
    "duplicate_frames",
    "interpolate",
    "mask",
    "randomize",
    "replace",
    "replace_code",
    "select",
    "splice",
    "unmask",
]


def apply(grid: CodeGrid, op: ops.Op | dict[str, Any], *, codec: Any = None) -> Any:
    """Apply one operation (an :class:`~qtok_widgets.ops.Op` or its recipe dict) to ``grid``.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``; not changed.
    op : Op or dict
        The operation; a dict is read with :func:`qtok_widgets.ops.from_json`. Grid fields
        must hold CodeGrids, or ``"original"`` (which means ``grid``).
    codec : Codec, optional
        For operations that need code embeddings (interpolate).

    Returns
    -------
    CodeGrid or InterpolateResult
        What the operation returns: the edited grid (interpolate: with its snapping error).
    """
    if not isinstance(op, ops.Op):
        op = ops.from_json(op)
    if not isinstance(grid, CodeGrid):
        msg = f"grid must be a CodeGrid, got {type(grid).__name__}"
        raise ops.EditError(msg)
    delta = op.plan(grid, ops.OpContext(codec=codec, original=grid))
    return op.result(delta.apply(grid), delta)


def mask(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Mask cells: they contribute nothing at decode time (their codes are kept).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec, optional
        Cells to mask (see :mod:`qtok_widgets.selection`); ``None`` = all.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``; widened to whole frames.

    Returns
    -------
    CodeGrid
        Same shape and codes; ``mask`` True on the selected cells.
    """
    return apply(grid, ops.Mask.create(grid, frames, layers, seconds=seconds))


def unmask(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Unmask cells, so that their kept codes are decoded again. Arguments as :func:`mask`."""
    return apply(grid, ops.Unmask.create(grid, frames, layers, seconds=seconds))


def replace(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    code: int,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Set the selected cells to one code (masks unchanged).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec
        Cells to overwrite; ``None`` = all.
    code : int
        New code, in ``0 .. codebook_size - 1``.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.

    Returns
    -------
    CodeGrid
    """
    return apply(grid, ops.Replace.create(grid, frames, layers, code, seconds=seconds))


def replace_code(grid: CodeGrid, old: int, new: int, layers: IndexSpec = None) -> CodeGrid:
    """Search and replace: every ``old`` code in the chosen layers becomes ``new`` (masks unchanged).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    old, new : int
        Codes in ``0 .. codebook_size - 1``.
    layers : index spec, optional
        Layers to search; ``None`` = all.

    Returns
    -------
    CodeGrid
    """
    return apply(grid, ops.ReplaceCode.create(grid, old, new, layers))


def splice(
    grid: CodeGrid,
    source: CodeGrid,
    src_frames: IndexSpec,
    dst_start: int,
    layers: IndexSpec = None,
    mode: str = "replace",
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Copy frames of chosen layers from ``source`` (codes and mask) into ``grid``.

    Parameters
    ----------
    grid : CodeGrid
        Destination, shape ``(n_layers, n_frames)``.
    source : CodeGrid
        Where the frames come from: another take, another speaker or the same clip. Must come
        from the same codec (name, layers, rates, codebook size).
    src_frames : index spec
        Source frames, in the order they are copied (``None`` = all; ``seconds=`` instead).
    dst_start : int
        First destination frame.
    layers : index spec, optional
        Layers to copy; ``None`` = all.
    mode : {"replace", "insert"}
        ``"replace"`` overwrites frames ``dst_start .. dst_start + k - 1`` of the chosen layers
        (``k`` source frames; they must fit). ``"insert"`` inserts ``k`` new frames before
        ``dst_start`` (``0 .. n_frames``): the chosen layers get the source's cells, the other
        layers get the source's codes masked, so the new frames carry only the chosen layers.
    seconds : tuple of float, optional
        ``(t0, t1)`` in the source instead of ``src_frames``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames)`` (replace) or ``(n_layers, n_frames + k)`` (insert).
    """
    op = ops.Splice.create(grid, source, src_frames, dst_start, layers, mode, seconds=seconds)
    return apply(grid, op)


def interpolate(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    codec: Any,
    target: CodeGrid | None = None,
    alpha: float = 0.5,
    *,
    seconds: tuple[float, float] | None = None,
    target_start: int | None = None,
) -> InterpolateResult:
    """Move cells toward a target in the codec's embedding space, then snap back to codes.

    For each of the codec's layer groups (residual chains, :meth:`Codec.layer_groups`) that
    holds selected layers, the latent of the selected layers ``z = sum_l E_l[code_l]`` is
    blended with the target's, ``(1 - alpha) * z + alpha * z_target``, and quantised residually
    over the selected layers in chain order (:meth:`Codec.quantize`). Masks are unchanged.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec
        Cells to move; ``None`` = all.
    codec : Codec
        Codec with ``has_embeddings``, matching the grid.
    target : CodeGrid, optional
        Grid whose frames ``target_start ..`` (default: the same indices as the selection)
        give the target latent. Without it, each run of selected frames moves toward the
        straight line between the frames bordering it (or the one that exists at an edge).
    alpha : float
        0 keeps the codes (up to snapping), 1 reaches the target; in ``0 .. 1``.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.
    target_start : int, optional
        Target frame aligned with the first selected frame.

    Returns
    -------
    InterpolateResult
        The edited grid, the selection and the per-frame snapping error.
    """
    op = ops.Interpolate.create(grid, frames, layers, target, alpha, target_start, seconds=seconds)
    return apply(grid, op, codec=codec)


def delete_frames(
    grid: CodeGrid, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None
) -> CodeGrid:
    """Remove frames (all layers), shortening the audio by one frame each.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames : index spec
        Frames to remove; at least one frame must remain.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames - k)``. ``n_samples`` drops by ``k * samples_per_frame``,
        except that a partial last frame stays partial only while it is still last.
    """
    return apply(grid, ops.DeleteFrames.create(grid, frames, seconds=seconds))


def duplicate_frames(
    grid: CodeGrid,
    frames: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
    times: int = 1,
) -> CodeGrid:
    """Repeat each selected frame ``times`` more times in place (stretch a sound).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames : index spec
        Frames to repeat (duplicates in the spec count once).
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.
    times : int
        Extra copies per frame, in ``1 .. 64``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames + times * k)``; frame ``f`` is followed by its copies.
    """
    return apply(grid, ops.DuplicateFrames.create(grid, frames, times, seconds=seconds))


def randomize(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    seed: int | None = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Replace cells with codes drawn from each layer's own code distribution in ``grid``.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec, optional
        Cells to overwrite; ``None`` = all.
    seed : int, optional
        In ``0 .. 2**32 - 1``; the same seed draws the same codes. Default: a random one.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.

    Returns
    -------
    CodeGrid
        Same shape and masks; see :class:`qtok_widgets.ops.Randomize`.
    """
    return apply(grid, ops.Randomize.create(grid, frames, layers, seed, seconds=seconds))
