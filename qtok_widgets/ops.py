"""Edit operations as data: one small immutable class per operation, found by name in a registry.

Each operation (``mask``, ``unmask``, ``replace``, ``replace_code``, ``splice``, ``interpolate``,
``randomize``, ``delete_frames``, ``duplicate_frames``, ``reset``) is a frozen dataclass whose
fields are exactly its recipe keys. Constructing one validates every field that can be checked
without a grid (types, fixed ranges) and raises :class:`~qtok_widgets.errors.EditError` with one
line naming the valid range; :meth:`Op.plan` checks the rest against a grid and returns the
:class:`~qtok_widgets.delta.Delta` the edit makes, never changing the grid. The registry
(:data:`OPS`) gives everything else from the class: JSON in and out (:meth:`Op.from_json`,
:meth:`Op.to_json`), the Python that replays it (:meth:`Op.to_python`), the history label
(:meth:`Op.label`) and the argument schema the editor's toolbar is built from
(:meth:`Op.toolbar_spec`). :meth:`EditSession.apply <qtok_widgets.session.EditSession.apply>`
is the one way an edit is committed.

Adding an operation is one class::

    @register
    @dataclass(frozen=True)
    class Silence(Op):
        name: ClassVar[str] = "silence"
        ...
        def _plan(self, grid, ctx): ...

Index fields (``frames``, ``layers``, ``src_frames``) hold the canonical JSON form of
:func:`~qtok_widgets.selection.spec_to_json` (``None`` = all, ``"start:stop"`` or a list of
ints); :meth:`Op.create` turns any index spec or ``seconds=(t0, t1)`` into that form against a
grid. Grid fields (``source``, ``target``) hold a grid name (``"original"`` or a recipe's
``grids`` key, a Python identifier) or, before a session names it, the
:class:`~qtok_widgets.grid.CodeGrid` itself.
"""

# The field helpers below (spec, ref, integer, number, choice) return dataclasses.field(...),
# which ruff cannot see through.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .delta import Delta, plan_cells, runs
from .errors import CodecError, EditError
from .grid import CODE_DTYPE, CodeGrid
from .selection import Selection, resolve_indices, select, spec_to_json, spec_to_python

__all__ = [
    "OPS",
    "SPLICE_MODES",
    "DeleteFrames",
    "DuplicateFrames",
    "Interpolate",
    "Mask",
    "Op",
    "OpContext",
    "Randomize",
    "Replace",
    "ReplaceCode",
    "Reset",
    "Splice",
    "Unmask",
    "from_json",
    "max_frames",
    "register",
]

SPLICE_MODES = ("replace", "insert")
MAX_DUPLICATE_TIMES = 64
MAX_SEED = 2**32 - 1

#: A grid name in a recipe: a Python identifier of at most 64 characters.
GRID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

#: Registry: operation name -> class.
OPS: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    """Class decorator that adds an operation to :data:`OPS` under its ``name``."""
    if cls.name in OPS and OPS[cls.name] is not cls:
        msg = f"an operation named {cls.name!r} is already registered"
        raise ValueError(msg)
    OPS[cls.name] = cls
    return cls


def max_frames(grid: CodeGrid) -> int:
    """Most frames an edit may leave in a grid: the audio duration limit at the grid's frame rate.

    The limit is :func:`~qtok_widgets.audio.load_audio`'s (one hour by default, or
    ``QTOK_MAX_DURATION_S``), so a recipe cannot grow a grid past what could have been loaded.
    """
    from .audio import duration_limit

    return math.floor(duration_limit() * grid.frame_rate)


@dataclass(frozen=True)
class OpContext:
    """What an operation may need besides the grid it edits.

    Attributes
    ----------
    sources : Mapping of str to CodeGrid
        Grids that ``source``/``target`` fields name (``"original"`` included).
    codec : Codec or None
        For operations that need code embeddings (interpolate).
    original : CodeGrid or None
        The session's source grid (reset goes back to it).
    """

    sources: Mapping[str, CodeGrid] = field(default_factory=dict)
    codec: Any = None
    original: CodeGrid | None = None

    def grid(self, ref: Any, what: str) -> CodeGrid:
        """The grid a field refers to (a CodeGrid, or a name known to the context)."""
        if isinstance(ref, CodeGrid):
            return ref
        if ref == "original" and self.original is not None:
            return self.original
        if isinstance(ref, str) and ref in self.sources:
            return self.sources[ref]
        known = ["original", *(k for k in self.sources if k != "original")]
        msg = f"{what} {ref!r} is not a known grid; use one of {', '.join(repr(k) for k in known)}"
        raise EditError(msg)


# ---------------------------------------------------------------------------- field kinds
# Every field has a default so that fields keep their recipe order; a required field defaults
# to None and says so in its metadata (None is then refused as "missing").
def spec(*, of: str = "grid", required: bool = False) -> Any:
    """An index field (frames or layers); ``of`` names the grid it indexes (``"grid"`` or a ref field)."""
    return field(default=None, metadata={"kind": "spec", "of": of, "required": required})


def ref(*, required: bool = False) -> Any:
    """A field naming another grid (``"original"``, a recipe grid name, or a CodeGrid)."""
    return field(default=None, metadata={"kind": "ref", "required": required})


def integer(
    default: Any = None,
    *,
    lo: int | None = None,
    hi: int | str | None = None,
    required: bool = False,
    optional: bool = False,
    ui: dict[str, Any] | None = None,
) -> Any:
    """An int field in ``lo .. hi``; ``hi="codebook"`` means ``codebook_size - 1``, checked at plan time."""
    meta = {"kind": "int", "lo": lo, "hi": hi, "optional": optional, "required": required, "ui": ui}
    return field(default=default, metadata=meta)


def number(default: float, *, lo: float, hi: float, ui: dict[str, Any] | None = None) -> Any:
    """A finite float field in ``lo .. hi``."""
    return field(default=default, metadata={"kind": "float", "lo": lo, "hi": hi, "ui": ui})


def choice(default: str, choices: tuple[str, ...]) -> Any:
    """A string field, one of ``choices``."""
    return field(default=default, metadata={"kind": "choice", "choices": choices})


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _json_spec(value: Any, key: str) -> Any:
    """Canonical JSON form of an index spec given without a grid (ranges and arrays become text or lists)."""
    if value is None or isinstance(value, str):
        return value
    if _is_int(value):
        return int(value)
    if isinstance(value, range):
        value = np.arange(value.start, value.stop, value.step)
    if isinstance(value, slice):
        if all(v is None or _is_int(v) for v in (value.start, value.stop, value.step)) and (
            value.start is not None and value.stop is not None
        ):
            step = value.step or 1
            return f"{value.start}:{value.stop}" if step == 1 else f"{value.start}:{value.stop}:{step}"
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim == 1 and (arr.dtype.kind in "iu" or arr.size == 0):
            return spec_to_json(arr, None) if arr.size else []
        if arr.ndim == 1 and arr.dtype == object and all(_is_int(v) for v in value):
            return [int(v) for v in value]
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    msg = f"'{key}' must be null, an int, a 'start:stop' string or a list of ints, got {text}"
    raise EditError(msg)


def _check_field(name: str, meta: Mapping[str, Any], value: Any) -> Any:
    """Validate (and normalise) one field value without a grid; returns the value to store."""
    kind = meta.get("kind")
    if kind == "spec":
        return _json_spec(value, name)
    if kind == "ref":
        if value is None or isinstance(value, CodeGrid):
            return value
        if isinstance(value, str) and GRID_NAME.fullmatch(value):
            return value
        msg = f"{name} must be a CodeGrid or a grid name (a Python identifier such as 'original'), got {value!r:.60}"
        raise EditError(msg)
    if kind == "int":
        if value is None and meta.get("optional"):
            return None
        lo, hi = meta.get("lo"), meta.get("hi")
        bounds = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        if hi == "codebook":
            bounds = f"{lo}..codebook_size - 1"
        if not _is_int(value):
            msg = f"{name} must be an int in {bounds}, got {value!r:.60}"
            raise EditError(msg)
        value = int(value)
        if (lo is not None and value < lo) or (isinstance(hi, int) and value > hi):
            msg = f"{name} {value} is out of range: {name} must be an int in {bounds}"
            raise EditError(msg)
        return value
    if kind == "float":
        lo, hi = meta["lo"], meta["hi"]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            msg = f"{name} must be a number in {lo:g}..{hi:g}, got {value!r:.60}"
            raise EditError(msg)
        value = float(value)
        if not (math.isfinite(value) and lo <= value <= hi):
            msg = f"{name} {value:g} is out of range: {name} must be in {lo:g}..{hi:g}"
            raise EditError(msg)
        return value
    if kind == "choice":
        choices = meta["choices"]
        if value not in choices:
            msg = f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r:.60}"
            raise EditError(msg)
        return value
    return value


def _hint(meta: Mapping[str, Any]) -> str:
    """What a missing field should be, for the error message."""
    if meta.get("kind") == "int":
        hi = (
            "codebook_size - 1"
            if meta.get("hi") == "codebook"
            else ("" if meta.get("hi") is None else meta["hi"])
        )
        return f" (an int in {meta.get('lo', 0)}..{hi})"
    if meta.get("kind") == "ref":
        return " (a CodeGrid or a grid name)"
    return ""


def _code_name(field_name: str) -> str:
    """How messages call a code field: ``code``, ``old code``, ``new code``."""
    return "code" if field_name == "code" else f"{field_name} code"


def _check_code(grid: CodeGrid, code: int, name: str) -> int:
    if not 0 <= code < grid.codebook_size:
        msg = f"{name} {code} is out of range: codes must be in 0..{grid.codebook_size - 1}"
        raise EditError(msg)
    return code


def _check_same_codec(grid: CodeGrid, other: CodeGrid, name: str) -> None:
    if not grid.same_codec(other):
        msg = (
            f"{name} comes from codec {other.codec!r} ({other.n_layers} layers, {other.frame_rate:g} Hz, "
            f"codebook {other.codebook_size}); it must match the grid's {grid.codec!r} "
            f"({grid.n_layers} layers, {grid.frame_rate:g} Hz, codebook {grid.codebook_size})"
        )
        raise EditError(msg)


def _cells(sel: Selection) -> tuple[np.ndarray, np.ndarray]:
    """Every (layer, frame) pair of a selection, as two flat arrays."""
    return np.repeat(sel.layers, sel.frames.size), np.tile(sel.frames, sel.layers.size)


def _n_samples_after(grid: CodeGrid, n_frames_new: int, last_frame_kept_last: bool) -> int:
    """Sample count after a timing edit: the trimmed tail stays with the last frame if it is still last."""
    spf = grid.samples_per_frame
    deficit = grid.n_frames * spf - grid.n_samples
    if not last_frame_kept_last or n_frames_new == 0:
        deficit = 0
    return max(0, n_frames_new * spf - deficit)


# ---------------------------------------------------------------------------- base class
@dataclass(frozen=True)
class Op:
    """Base class of edit operations: validated fields, a plan, and the registry's conversions.

    Class attributes describe the operation to the toolbar: ``name`` (registry and recipe
    name), ``title`` (button text), ``help`` (tooltip), ``group`` (toolbar group), ``key``
    (shortcut) and ``key_does`` (``"run"`` or ``"focus"`` its first input), ``selection``
    (``"cells"``, ``"frames"``, or None for operations the toolbar does not show).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    help: ClassVar[str] = ""
    group: ClassVar[str] = ""
    key: ClassVar[str | None] = None
    key_does: ClassVar[str] = "run"
    selection: ClassVar[str | None] = "cells"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("required"):
                msg = f"{self.name} is missing {f.name}{_hint(f.metadata)}"
                raise EditError(msg)
            object.__setattr__(self, f.name, _check_field(f.name, f.metadata, value))

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, grid: CodeGrid, *args: Any, seconds: Any = None, **kwargs: Any) -> Op:
        """Build the operation from Python arguments, resolving index specs against ``grid``.

        Positional arguments fill the fields in order. ``seconds=(t0, t1)`` chooses the first
        index field's frames by time (widened to whole frames). Index fields are stored in the
        canonical recipe form, so the operation records exactly the frames and layers used.

        Raises
        ------
        EditError
            A field of the wrong type or out of range, or a selection outside the grid.
        """
        if not isinstance(grid, CodeGrid):
            msg = f"{cls.name} needs a CodeGrid, got {type(grid).__name__}"
            raise EditError(msg)
        fields = dataclasses.fields(cls)
        if len(args) > len(fields):
            msg = f"{cls.name} takes at most {len(fields)} positional arguments, got {len(args)}"
            raise EditError(msg)
        values = dict(zip((f.name for f in fields), args, strict=False))
        for key, value in kwargs.items():
            if key in values:
                msg = f"{cls.name} got two values for {key!r}"
                raise EditError(msg)
            if key not in {f.name for f in fields}:
                msg = f"{cls.name} has no argument {key!r}; it takes {', '.join(f.name for f in fields)}"
                raise EditError(msg)
            values[key] = value
        specs = [f for f in fields if f.metadata.get("kind") == "spec"]
        if seconds is not None:
            if not specs or specs[0].name not in ("frames", "src_frames"):
                msg = f"{cls.name} takes no seconds="
                raise EditError(msg)
            if values.get(specs[0].name) is not None:
                msg = f"give either {specs[0].name}= or seconds=, not both"
                raise EditError(msg)
            try:
                seconds = (float(seconds[0]), float(seconds[1]))
            except (TypeError, ValueError, IndexError, OverflowError):
                msg = f"seconds must be a pair of numbers (t0, t1), got {seconds!r:.60}"
                raise EditError(msg) from None
        for f in specs:
            if f.name not in values and seconds is None:
                continue
            target = grid
            if f.metadata["of"] != "grid":
                other = values.get(f.metadata["of"])
                target = other if isinstance(other, CodeGrid) else grid
            n = target.n_layers if f.name == "layers" else target.n_frames
            if f.name == "layers":
                idx = resolve_indices(values.get(f.name), target.n_layers, "layer")
            else:
                use_seconds = seconds if f is specs[0] else None
                idx = select(
                    target, None if use_seconds is not None else values.get(f.name), seconds=use_seconds
                ).frames
            # an optional index field writes "all" as null; a required one keeps the explicit run
            values[f.name] = spec_to_json(idx, None if f.metadata.get("required") else n)
        for f in fields:  # codes are checked against this grid's codebook before anything else
            value = values.get(f.name)
            if f.metadata.get("hi") == "codebook" and _is_int(value):
                _check_code(grid, int(value), _code_name(f.name))  # type: ignore[arg-type]  # _is_int said so
        op = cls(**values)
        if seconds is not None:  # remembered for the selection the plan reports (not a recipe key)
            object.__setattr__(op, "_seconds", seconds)
        return op

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Op:
        """The operation a recipe's op dict describes (``{"op": name, **fields}``).

        Raises
        ------
        EditError
            Unknown or missing keys, or a field of the wrong type or range.
        """
        fields = dataclasses.fields(cls)
        required = [f.name for f in fields if f.metadata.get("required")]
        allowed = {f.name for f in fields}
        extra = sorted(set(data) - {"op"} - allowed)
        if extra:
            msg = f"op {cls.name!r} has unknown keys {extra}; allowed: {sorted(allowed)}"
            raise EditError(msg)
        missing = [k for k in required if k not in data]
        if missing:
            msg = f"op {cls.name!r} is missing {', '.join(missing)}"
            raise EditError(msg)
        return cls(**{k: data[k] for k in allowed if k in data})

    @classmethod
    def from_ui(
        cls,
        frames: range | None,
        layers: range | None,
        params: Mapping[str, Any],
        sources: Mapping[str, CodeGrid | None],
    ) -> Op:
        """The operation a toolbar button asks for: the selection plus the button's inputs.

        Parameters
        ----------
        frames, layers : range or None
            The editor's selection (half-open runs of frames and layers).
        params : Mapping
            Values of the inputs :meth:`toolbar_spec` declared, by field name.
        sources : Mapping
            Grids the editor holds besides the session's (``"source"``: the second clip).
        """
        values: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(cls)}
        if "frames" in names:
            values["frames"] = frames
        if "layers" in names and cls.selection == "cells":
            values["layers"] = layers
        for key, value in params.items():
            if key in names and key not in values:
                values[key] = value
        return cls(**values)

    # ------------------------------------------------------------------ planning
    def plan(self, grid: CodeGrid, context: OpContext | None = None) -> Delta:
        """What this operation changes in ``grid``, as a :class:`~qtok_widgets.delta.Delta`.

        The delta's ``selection`` holds the frames and layers used. The grid is not changed.

        Raises
        ------
        EditError
            The operation does not fit the grid (a frame out of range, a code past the
            codebook, a grid from another codec, growth past :func:`max_frames`).
        """
        if not isinstance(grid, CodeGrid):
            msg = f"{self.name} needs a CodeGrid, got {type(grid).__name__}"
            raise EditError(msg)
        ctx = context or OpContext()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("kind") == "int" and f.metadata.get("hi") == "codebook" and value is not None:
                _check_code(grid, value, _code_name(f.name))
        delta = self._plan(grid, ctx)
        n_after = grid.n_frames - delta.removed.size + delta.inserted.size
        limit = max_frames(grid)
        if delta.inserted.size and n_after > limit:
            msg = (
                f"{self.name} would grow the grid to {n_after} frames; an edit may leave at most {limit} "
                f"frames ({limit / grid.frame_rate:g} s, the duration limit QTOK_MAX_DURATION_S)"
            )
            raise EditError(msg)
        return delta

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self, grid: CodeGrid, delta: Delta) -> Any:
        """What :class:`~qtok_widgets.session.EditSession` returns after applying: the new grid."""
        return grid

    # ------------------------------------------------------------------ conversions
    def refs(self) -> dict[str, Any]:
        """The grid fields and their values (names or CodeGrids), e.g. ``{"source": "grid1"}``."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("kind") == "ref"
        }

    def with_refs(self, name_of: Callable[[CodeGrid], str]) -> Op:
        """A copy whose CodeGrid fields are replaced by ``name_of(grid)``."""
        changes = {k: name_of(v) for k, v in self.refs().items() if isinstance(v, CodeGrid)}
        return dataclasses.replace(self, **changes) if changes else self

    def to_json(self) -> dict[str, Any]:
        """The recipe form ``{"op": name, **fields}`` (grid fields must be names by then)."""
        out: dict[str, Any] = {"op": self.name}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, CodeGrid):
                msg = f"{self.name}: name the grid in {f.name!r} before writing a recipe (EditSession does)"
                raise EditError(msg)
            out[f.name] = list(value) if isinstance(value, list) else value
        return out

    def to_python(self, grid_expr: Callable[[str], str]) -> str:
        """One line of Python that applies this operation to ``session``.

        Parameters
        ----------
        grid_expr : callable
            Maps a grid name to the Python expression that holds it. Names are checked
            identifiers and every other value a checked int, float, choice or index spec, so
            the line contains no text taken from a recipe as code.
        """
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = f.metadata.get("kind")
            if kind == "spec":
                parts.append(f"{f.name}={spec_to_python(value)}")
            elif kind == "ref":
                parts.append(f"{f.name}={'None' if value is None else grid_expr(value)}")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"session.{self.name}({', '.join(parts)})"

    def label(self) -> str:
        """One short line for the history list, e.g. ``mask(frames=0:10, layers=8:16)``."""
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None and f.metadata.get("kind") != "ref"
        ]
        return f"{self.name}({', '.join(parts)})" if parts else self.name

    @classmethod
    def toolbar_spec(cls, grid: CodeGrid) -> dict[str, Any]:
        """The editor toolbar's description of this operation (see docs/protocol.md, ``ops``)."""
        params = []
        for f in dataclasses.fields(cls):
            ui = f.metadata.get("ui")
            if not ui:
                continue
            spec_: dict[str, Any] = {"name": f.name, "label": "", "help": "", **ui}
            if spec_.get("kind") == "int":
                hi = f.metadata.get("hi")
                spec_.setdefault("min", f.metadata.get("lo"))
                spec_.setdefault("max", grid.codebook_size - 1 if hi == "codebook" else hi)
                spec_.setdefault("step", 1)
                spec_["optional"] = bool(f.metadata.get("optional"))
            elif spec_.get("kind") == "float":
                spec_.setdefault("min", f.metadata["lo"])
                spec_.setdefault("max", f.metadata["hi"])
            params.append(spec_)
        return {
            "name": cls.name,
            "title": cls.title,
            "help": cls.help,
            "group": cls.group or cls.name,
            "key": cls.key,
            "key_does": cls.key_does,
            "selection": cls.selection,
            "params": params,
        }

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Default values of the toolbar inputs, by field name."""
        out = {}
        for f in dataclasses.fields(cls):
            ui = f.metadata.get("ui")
            if ui:
                out[f.name] = ui.get("default", f.default)
        return out


def from_json(data: Any) -> Op:
    """The registered operation an op dict names (``{"op": "mask", "frames": "0:10"}``)."""
    if not isinstance(data, Mapping):
        msg = f"an op must be a dict like {{'op': 'mask', 'frames': '0:10'}}, got {type(data).__name__}"
        raise EditError(msg)
    name = data.get("op")
    cls = OPS.get(name) if isinstance(name, str) else None
    if cls is None:
        msg = f"unknown op {name!r:.60}: use one of {', '.join(OPS)}"
        raise EditError(msg)
    return cls.from_json(data)


def _resolve(op: Op, grid: CodeGrid, frames_key: str = "frames", *, of: CodeGrid | None = None) -> Selection:
    """The selection an operation's index fields name in ``grid`` (``of`` for a source's frames)."""
    frames = getattr(op, frames_key, None)
    layers = getattr(op, "layers", None)
    if of is None:
        sel = select(grid, frames, layers)
        return Selection(sel.frames, sel.layers, sel.frame_rate, getattr(op, "_seconds", None))
    frame_idx = resolve_indices(frames, of.n_frames, "frame")
    return Selection(frame_idx, resolve_indices(layers, grid.n_layers, "layer"), grid.frame_rate)


# ---------------------------------------------------------------------------- cell operations
@register
@dataclass(frozen=True)
class Mask(Op):
    """Mask cells: they contribute nothing at decode time (their codes are kept)."""

    name: ClassVar[str] = "mask"
    title: ClassVar[str] = "Mask"
    help: ClassVar[str] = "Mask selected cells (M)"
    key: ClassVar[str | None] = "m"
    frames: Any = spec()
    layers: Any = spec()

    _value: ClassVar[bool] = True

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        sel = _resolve(self, grid)
        cl, cf = _cells(sel)
        delta = plan_cells(grid, cl, cf, grid.codes[cl, cf], np.full(cl.size, self._value))
        return dataclasses.replace(delta, selection=sel)


@register
@dataclass(frozen=True)
class Unmask(Mask):
    """Unmask cells, so that their kept codes are decoded again."""

    name: ClassVar[str] = "unmask"
    title: ClassVar[str] = "Unmask"
    help: ClassVar[str] = "Unmask selected cells (U)"
    group: ClassVar[str] = "mask"
    key: ClassVar[str | None] = "u"
    _value: ClassVar[bool] = False


@register
@dataclass(frozen=True)
class Replace(Op):
    """Set the selected cells to one code (masks unchanged)."""

    name: ClassVar[str] = "replace"
    title: ClassVar[str] = "Replace"
    help: ClassVar[str] = "Write the code into the selection (R)"
    key: ClassVar[str | None] = "r"
    key_does: ClassVar[str] = "focus"
    frames: Any = spec()
    layers: Any = spec()
    code: int = integer(
        None, required=True, lo=0, hi="codebook", ui={"kind": "int", "help": "Code for Replace", "default": 0}
    )

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        sel = _resolve(self, grid)
        cl, cf = _cells(sel)
        delta = plan_cells(grid, cl, cf, np.full(cl.size, self.code), grid.mask[cl, cf])
        return dataclasses.replace(delta, selection=sel)


@register
@dataclass(frozen=True)
class ReplaceCode(Op):
    """Search and replace: every ``old`` code in the chosen layers becomes ``new`` (masks unchanged)."""

    name: ClassVar[str] = "replace_code"
    title: ClassVar[str] = "Replace code"
    selection: ClassVar[str | None] = None
    old: int = integer(None, required=True, lo=0, hi="codebook")
    new: int = integer(None, required=True, lo=0, hi="codebook")
    layers: Any = spec()

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        layer_idx = np.unique(resolve_indices(self.layers, grid.n_layers, "layer"))
        li, fi = np.nonzero(grid.codes[layer_idx] == self.old)
        cl = layer_idx[li]
        delta = plan_cells(grid, cl, fi, np.full(cl.size, self.new), grid.mask[cl, fi])
        sel = Selection(np.unique(fi).astype(np.int64), layer_idx, grid.frame_rate)
        return dataclasses.replace(delta, selection=sel)


@register
@dataclass(frozen=True)
class Splice(Op):
    """Copy frames of chosen layers from ``source`` (codes and mask) into the grid.

    ``mode="replace"`` overwrites ``k`` frames from ``dst_start``; ``"insert"`` inserts ``k``
    new frames before ``dst_start`` whose unchosen layers carry the source's codes masked.
    """

    name: ClassVar[str] = "splice"
    title: ClassVar[str] = "Splice"
    selection: ClassVar[str | None] = None
    source: Any = ref(required=True)
    src_frames: Any = spec(of="source")
    dst_start: int = integer(None, required=True)
    layers: Any = spec()
    mode: str = choice("replace", SPLICE_MODES)

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        source = ctx.grid(self.source, "source")
        _check_same_codec(grid, source, "splice source")
        sel = _resolve(self, grid, "src_frames", of=source)
        k, n, dst_start = sel.frames.size, grid.n_frames, self.dst_start
        if self.mode == "replace":
            if dst_start < 0 or dst_start + k > n:
                msg = (
                    f"splice of {k} frames at dst_start {dst_start} does not fit: dst_start must be in "
                    f"0..{n - k} for a grid of {n} frames (or insert them)"
                )
                raise EditError(msg)
            dst = np.arange(dst_start, dst_start + k)
            cl = np.repeat(sel.layers, k)
            cf_src = np.tile(sel.frames, sel.layers.size)
            cf_dst = np.tile(dst, sel.layers.size)
            delta = plan_cells(grid, cl, cf_dst, source.codes[cl, cf_src], source.mask[cl, cf_src])
            return dataclasses.replace(delta, selection=sel)
        if not 0 <= dst_start <= n:
            msg = f"insert position dst_start {dst_start} is out of range: must be in 0..{n}"
            raise EditError(msg)
        ins_mask = np.array(source.mask[:, sel.frames])
        ins_mask[np.setdiff1d(np.arange(grid.n_layers), sel.layers), :] = True
        return Delta(
            inserted=np.arange(dst_start, dst_start + k, dtype=np.int64),
            inserted_codes=np.array(source.codes[:, sel.frames]),
            inserted_mask=ins_mask,
            old_n_samples=grid.n_samples,
            new_n_samples=_n_samples_after(grid, n + k, dst_start < n),
            selection=sel,
        )


# ---------------------------------------------------------------------------- interpolation
@dataclass(frozen=True, eq=False)
class InterpolateResult:
    """Outcome of an interpolation.

    Attributes
    ----------
    grid : CodeGrid
        The edited grid.
    selection : Selection
        Frames and layers that were interpolated.
    error : numpy.ndarray
        float32, shape ``(n_selected_frames,)``: distance in embedding space between the ideal
        interpolated latent and the codes it was snapped to (L2, summed over layer groups in
        quadrature).
    relative_error : numpy.ndarray
        float32, shape ``(n_selected_frames,)``: ``error`` divided by the norm of the ideal
        latent (0 where that norm is 0).
    """

    grid: CodeGrid
    selection: Selection
    error: np.ndarray
    relative_error: np.ndarray

    @property
    def mean_error(self) -> float:
        """Mean of :attr:`error` over the selected frames."""
        return float(self.error.mean()) if self.error.size else 0.0

    def __repr__(self) -> str:
        return (
            f"InterpolateResult({self.selection!r}, mean_error={self.mean_error:.4g}, "
            f"mean_relative_error={float(self.relative_error.mean()):.3g})"
        )


def _latent(
    tables: dict[int, np.ndarray], codes: np.ndarray, layers: list[int], frames: np.ndarray
) -> np.ndarray:
    """Sum of the embeddings of ``codes[layers, frames]``: shape ``(len(frames), dim)``."""
    out = tables[layers[0]][codes[layers[0], frames]].astype(np.float32)
    for layer in layers[1:]:
        out = out + tables[layer][codes[layer, frames]]
    return out


@register
@dataclass(frozen=True)
class Interpolate(Op):
    """Move cells toward a target in the codec's embedding space, then snap back to codes.

    For each layer group (residual chain) holding selected layers, the latent of the selected
    layers is blended with the target's, ``(1 - alpha) * z + alpha * z_target``, and quantised
    again over those layers. Without ``target``, each run of selected frames moves toward the
    straight line between the frames bordering it. Masks are unchanged.
    """

    name: ClassVar[str] = "interpolate"
    title: ClassVar[str] = "Interpolate"
    help: ClassVar[str] = "Interpolate the selection (I)"
    key: ClassVar[str | None] = "i"
    frames: Any = spec()
    layers: Any = spec()
    target: Any = ref()
    alpha: float = number(
        0.5, lo=0.0, hi=1.0, ui={"kind": "float", "label": "α", "help": "Interpolation alpha", "step": 0.05}
    )
    target_start: int | None = integer(None, lo=0, optional=True)

    @classmethod
    def toolbar_spec(cls, grid: CodeGrid) -> dict[str, Any]:
        """As :meth:`Op.toolbar_spec`, plus the choice of target: neighbours or the second clip."""
        out = super().toolbar_spec(grid)
        out["params"].append(
            {
                "name": "target",
                "label": "",
                "help": "Interpolate toward",
                "kind": "choice",
                "choices": [["neighbours", "neighbours"], ["source", "2nd clip"]],
            }
        )
        return out

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Alpha 0.5, toward the neighbours."""
        return {**super().param_defaults(), "target": "neighbours"}

    @classmethod
    def from_ui(
        cls,
        frames: range | None,
        layers: range | None,
        params: Mapping[str, Any],
        sources: Mapping[str, CodeGrid | None],
    ) -> Op:
        """Target ``"source"`` is the editor's second clip; ``"neighbours"`` is no target."""
        target_choice = params.get("target", "neighbours")
        if target_choice not in ("neighbours", "source"):
            msg = f"target must be 'neighbours' or 'source', got {target_choice!r:.40}"
            raise EditError(msg)
        target = None
        if target_choice == "source":
            target = sources.get("source")
            if target is None:
                msg = "no second clip loaded: call editor.load_source(other) first"
                raise EditError(msg)
        return cls(frames=frames, layers=layers, target=target, alpha=params.get("alpha", 0.5))

    def result(self, grid: CodeGrid, delta: Delta) -> Any:
        """An :class:`InterpolateResult` with the new grid and the snapping error."""
        error, relative = delta.detail
        return InterpolateResult(grid, delta.selection, error, relative)

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        codec = ctx.codec
        if codec is None or not getattr(codec, "has_embeddings", False):
            name = "no codec" if codec is None else f"codec {getattr(codec, 'name', codec)!r}"
            msg = f"interpolate needs a codec with code embeddings, got {name}"
            raise EditError(msg)
        try:
            codec.check_grid(grid)
        except CodecError as exc:
            raise EditError(str(exc)) from None
        sel = _resolve(self, grid)
        sel_frames = np.unique(sel.frames)
        sel_layers = sorted({int(v) for v in sel.layers})
        sel = Selection(sel_frames, np.array(sel_layers, dtype=np.int64), grid.frame_rate)
        n = grid.n_frames
        target = None if self.target is None else ctx.grid(self.target, "target")
        tgt_frames = sel_frames
        if target is not None:
            _check_same_codec(grid, target, "interpolation target")
            start = int(sel_frames[0]) if self.target_start is None else self.target_start
            tgt_frames = sel_frames - sel_frames[0] + start
            if tgt_frames[-1] >= target.n_frames:
                span = int(sel_frames[-1] - sel_frames[0])
                msg = (
                    f"target_start {start} is out of range: the selection spans {span + 1} frames, so "
                    f"target_start must be in 0..{target.n_frames - span - 1} for a target of {target.n_frames} frames"
                )
                raise EditError(msg)
        elif self.target_start is not None:
            msg = "target_start needs a target grid (without one the frames bordering the selection are used)"
            raise EditError(msg)
        elif runs(sel_frames) == [(0, n)]:
            msg = f"interpolating all {n} frames needs a target grid: no frame borders the selection"
            raise EditError(msg)

        new_codes = np.array(grid.codes)
        err2 = np.zeros(sel_frames.size, dtype=np.float64)
        norm2 = np.zeros(sel_frames.size, dtype=np.float64)
        try:
            for group in codec.layer_groups():
                chain = [int(layer) for layer in group if int(layer) in sel_layers]
                if not chain:
                    continue
                tables = {layer: np.asarray(codec.embeddings(layer), dtype=np.float32) for layer in chain}
                current = _latent(tables, grid.codes, chain, sel_frames)
                if target is not None:
                    goal = _latent(tables, target.codes, chain, tgt_frames)
                else:
                    goal = np.empty_like(current)
                    pos = 0
                    for a, b in runs(sel_frames):
                        left = _latent(tables, grid.codes, chain, np.array([a - 1]))[0] if a > 0 else None
                        right = _latent(tables, grid.codes, chain, np.array([b]))[0] if b < n else None
                        left = right if left is None else left
                        right = left if right is None else right
                        assert (
                            left is not None and right is not None
                        )  # a run that is not all frames has a neighbour
                        w = (np.arange(1, b - a + 1, dtype=np.float32) / (b - a + 1))[:, None]
                        goal[pos : pos + b - a] = (1.0 - w) * left[None, :] + w * right[None, :]
                        pos += b - a
                ideal = (1.0 - self.alpha) * current + self.alpha * goal
                codes, err = codec.quantize(ideal, chain)
                codes = np.asarray(codes)
                for i, layer in enumerate(chain):
                    new_codes[layer, sel_frames] = codes[i]
                err2 += np.asarray(err, dtype=np.float64) ** 2
                norm2 += np.einsum("fd,fd->f", ideal, ideal, dtype=np.float64)
        except CodecError as exc:
            raise EditError(str(exc)) from None
        cl, cf = _cells(sel)
        delta = plan_cells(grid, cl, cf, new_codes[cl, cf], grid.mask[cl, cf])
        error = np.sqrt(err2).astype(np.float32)
        norm = np.sqrt(norm2)
        relative = np.divide(error, norm, out=np.zeros_like(norm), where=norm > 0).astype(np.float32)
        return dataclasses.replace(delta, selection=sel, detail=(error, relative))


@register
@dataclass(frozen=True)
class Randomize(Op):
    """Replace the selected cells with codes drawn from each layer's own distribution in this grid.

    A standard ablation for asking what a layer carries: the codes keep the layer's statistics
    (how often each code occurs in this recording, masked cells not counted unless the whole
    layer is masked) but lose their place in time. The same ``seed`` draws the same codes, so a
    recipe replays exactly; without one a seed is chosen and recorded. Masks are unchanged.
    """

    name: ClassVar[str] = "randomize"
    title: ClassVar[str] = "Randomize"
    help: ClassVar[str] = "Replace the selection with codes drawn from each layer's distribution in this clip"
    frames: Any = spec()
    layers: Any = spec()
    seed: int | None = integer(
        None,
        lo=0,
        hi=MAX_SEED,
        optional=True,
        ui={
            "kind": "int",
            "label": "seed",
            "help": "Random seed (empty: a new one each time)",
            "default": None,
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.seed is None:
            object.__setattr__(self, "seed", secrets.randbelow(MAX_SEED + 1))

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        sel = _resolve(self, grid)
        frames = np.unique(sel.frames)
        layers = np.unique(sel.layers)
        rng = np.random.default_rng(self.seed)
        new = np.empty((layers.size, frames.size), dtype=CODE_DTYPE)
        for i, layer in enumerate(layers):
            row, kept = grid.codes[layer], ~grid.mask[layer]
            values, counts = np.unique(row[kept] if kept.any() else row, return_counts=True)
            new[i] = rng.choice(values, size=frames.size, p=counts / counts.sum())
        cl = np.repeat(layers, frames.size)
        cf = np.tile(frames, layers.size)
        delta = plan_cells(grid, cl, cf, new.ravel(), grid.mask[cl, cf])
        return dataclasses.replace(delta, selection=Selection(frames, layers, grid.frame_rate))


# ---------------------------------------------------------------------------- timing operations
@register
@dataclass(frozen=True)
class DeleteFrames(Op):
    """Remove frames (all layers), shortening the audio by one frame each."""

    name: ClassVar[str] = "delete_frames"
    title: ClassVar[str] = "Delete"
    help: ClassVar[str] = "Delete selected frames (Del)"
    group: ClassVar[str] = "timing"
    key: ClassVar[str | None] = "Delete"
    selection: ClassVar[str | None] = "frames"
    frames: Any = spec(required=True)

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        sel = select(grid, self.frames, None)
        removed = np.unique(sel.frames)
        n = grid.n_frames
        if removed.size >= n:
            msg = f"cannot delete all {n} frames: at least one frame must remain (delete at most {n - 1})"
            raise EditError(msg)
        return Delta(
            removed=removed,
            removed_codes=np.array(grid.codes[:, removed]),
            removed_mask=np.array(grid.mask[:, removed]),
            old_n_samples=grid.n_samples,
            new_n_samples=_n_samples_after(grid, n - removed.size, removed[-1] != n - 1),
            selection=Selection(removed, sel.layers, grid.frame_rate),
        )


@register
@dataclass(frozen=True)
class DuplicateFrames(Op):
    """Repeat each selected frame ``times`` more times in place (stretch a sound)."""

    name: ClassVar[str] = "duplicate_frames"
    title: ClassVar[str] = "Duplicate"
    help: ClassVar[str] = "Duplicate selected frames (D)"
    group: ClassVar[str] = "timing"
    key: ClassVar[str | None] = "d"
    selection: ClassVar[str | None] = "frames"
    frames: Any = spec(required=True)
    times: int = integer(
        1, lo=1, hi=MAX_DUPLICATE_TIMES, ui={"kind": "int", "label": "×", "help": "Copies Duplicate inserts"}
    )

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        sel = select(grid, self.frames, None)
        picked = np.unique(sel.frames)
        n, times = grid.n_frames, self.times
        # frame f keeps its place; its `times` copies follow it
        first_copy = picked + times * np.arange(picked.size) + 1
        inserted = (first_copy[:, None] + np.arange(times)[None, :]).ravel()
        cols = np.repeat(picked, times)
        return Delta(
            inserted=inserted.astype(np.int64),
            inserted_codes=np.array(grid.codes[:, cols]),
            inserted_mask=np.array(grid.mask[:, cols]),
            old_n_samples=grid.n_samples,
            new_n_samples=_n_samples_after(grid, n + inserted.size, picked[-1] != n - 1),
            selection=Selection(picked, sel.layers, grid.frame_rate),
        )


@register
@dataclass(frozen=True)
class Reset(Op):
    """Go back to the original grid (as one undoable operation)."""

    name: ClassVar[str] = "reset"
    title: ClassVar[str] = "Reset"
    selection: ClassVar[str | None] = None

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        orig = ctx.original
        if orig is None:
            msg = "reset needs the original grid (it runs in an EditSession)"
            raise EditError(msg)
        if grid.shape == orig.shape:
            layers, frames = np.nonzero((grid.codes != orig.codes) | (grid.mask != orig.mask))
            delta = plan_cells(grid, layers, frames, orig.codes[layers, frames], orig.mask[layers, frames])
            return dataclasses.replace(delta, old_n_samples=grid.n_samples, new_n_samples=orig.n_samples)
        return Delta(
            removed=np.arange(grid.n_frames, dtype=np.int64),
            removed_codes=np.array(grid.codes),
            removed_mask=np.array(grid.mask),
            inserted=np.arange(orig.n_frames, dtype=np.int64),
            inserted_codes=np.array(orig.codes),
            inserted_mask=np.array(orig.mask),
            old_n_samples=grid.n_samples,
            new_n_samples=orig.n_samples,
        )

    def plan(self, grid: CodeGrid, context: OpContext | None = None) -> Delta:
        """As :meth:`Op.plan`; going back to the original is never refused for growth."""
        return self._plan(grid, context or OpContext())


# The prosody operations (pitch_shift, time_stretch, gain) live in their own module and register
# themselves on import; importing it here puts them in OPS wherever the registry is used. It is
# imported last because it subclasses Op (it imports numpy only; pyworld loads when one is planned).
from . import prosody as _prosody  # noqa: E402, F401
