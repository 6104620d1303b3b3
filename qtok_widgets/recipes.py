"""Recipes: an editing session's operations as JSON to replay, and as Python to read and run.

A recipe is a JSON object::

    {"format": "qtok-recipe", "version": 1,
     "grid": {codec metadata and shape of the source grid, for checking},
     "grids": {"grid1": CodeGrid.to_dict(), ...},   # splice sources / interpolation targets
     "ops": [{"op": "mask", "frames": "3:10", "layers": "8:16"}, ...]}

:func:`read_recipe` checks the envelope (size, nesting, format, version) and
:func:`recipe_ops` turns the ops into :class:`~qtok_widgets.ops.Op` objects, one clear
:class:`~qtok_widgets.errors.EditError` line for anything wrong. :func:`to_python` writes code
that replays the recipe with the public API; no text from a recipe is ever written into it as
code: grid names are checked identifiers written as string literals, and every other value is a
checked number, choice or index spec.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import ops
from .errors import EditError, GridError
from .grid import CodeGrid

__all__ = [
    "MAX_RECIPE_BYTES",
    "RECIPE_FORMAT",
    "RECIPE_VERSION",
    "make_recipe",
    "read_recipe",
    "recipe_grids",
    "recipe_ops",
    "to_python",
]

RECIPE_FORMAT = "qtok-recipe"
RECIPE_VERSION = 1
#: Largest recipe read, in bytes (a recipe embeds its source grids as JSON).
MAX_RECIPE_BYTES = 256 * 1024 * 1024
#: Deepest nesting of JSON arrays and objects a recipe may have.
MAX_NESTING = 32


def make_recipe(original: CodeGrid, entries: list[ops.Op], grids: Mapping[str, CodeGrid]) -> dict[str, Any]:
    """The recipe of ``entries`` (operations with named grid fields) applied to ``original``.

    Only the grids the operations name are embedded (``"original"`` never is).
    """
    used: list[str] = []
    for op in entries:
        for value in op.refs().values():
            if isinstance(value, str) and value != "original" and value not in used:
                used.append(value)
    return {
        "format": RECIPE_FORMAT,
        "version": RECIPE_VERSION,
        "grid": {**original.metadata(), "n_layers": original.n_layers, "n_frames": original.n_frames},
        "grids": {name: grids[name].to_dict() for name in used},
        "ops": [op.to_json() for op in entries],
    }


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, stopping once past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def read_recipe(recipe: Any) -> dict[str, Any]:
    """Parse and check a recipe's envelope.

    Parameters
    ----------
    recipe : str, bytes, dict or os.PathLike
        Recipe JSON text, its parsed dict, or the path of a recipe file (a regular file of at
        most :data:`MAX_RECIPE_BYTES`).

    Returns
    -------
    dict
        The recipe, with ``format`` and ``version`` checked.

    Raises
    ------
    EditError
        Not a readable, well-formed recipe of this version.
    """
    if isinstance(recipe, os.PathLike):
        path = Path(recipe)
        if not path.is_file():
            msg = f"{path}: no such recipe file (or not a regular file)"
            raise EditError(msg)
        size = path.stat().st_size
        if size > MAX_RECIPE_BYTES:
            msg = f"{path}: recipe is {size} bytes; at most {MAX_RECIPE_BYTES} are read"
            raise EditError(msg)
        with path.open("rb") as fh:
            recipe = fh.read(MAX_RECIPE_BYTES + 1)
    if isinstance(recipe, (bytes, bytearray, memoryview)):
        recipe = bytes(recipe).decode("utf-8", errors="replace")
    if isinstance(recipe, str):
        if len(recipe) > MAX_RECIPE_BYTES:
            msg = f"recipe text is {len(recipe)} characters; at most {MAX_RECIPE_BYTES} are read"
            raise EditError(msg)
        try:
            recipe = json.loads(recipe)
        except json.JSONDecodeError as exc:
            msg = f"recipe is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            raise EditError(msg) from None
        except (RecursionError, ValueError) as exc:
            text = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split("\n")[0]
            msg = f"recipe is not readable JSON: {text}"
            raise EditError(msg) from None
    if not isinstance(recipe, dict):
        msg = f"a recipe must be a JSON object with 'format' and 'ops', got {type(recipe).__name__}"
        raise EditError(msg)
    if _depth(recipe, MAX_NESTING) > MAX_NESTING:
        msg = f"recipe is nested more than {MAX_NESTING} levels deep"
        raise EditError(msg)
    if recipe.get("format") != RECIPE_FORMAT:
        msg = f"not an edit recipe: 'format' must be {RECIPE_FORMAT!r}, got {recipe.get('format')!r:.60}"
        raise EditError(msg)
    if recipe.get("version") != RECIPE_VERSION:
        msg = (
            f"unsupported recipe version {recipe.get('version')!r:.20}; "
            f"this qtok_widgets reads version {RECIPE_VERSION}"
        )
        raise EditError(msg)
    return recipe


def check_source(recipe: Mapping[str, Any], grid: CodeGrid) -> None:
    """Refuse a source grid from another codec than the recipe's (its length may differ)."""
    meta = recipe.get("grid")
    if not isinstance(meta, dict):
        return
    mismatches = [
        f"{key} {meta[key]!r:.40} (grid has {value!r})"
        for key, value in (
            ("codec", grid.codec),
            ("n_layers", grid.n_layers),
            ("frame_rate", grid.frame_rate),
            ("sample_rate", grid.sample_rate),
            ("codebook_size", grid.codebook_size),
        )
        if key in meta and meta[key] != value
    ]
    if mismatches:
        msg = "recipe was made for another codec: " + ", ".join(mismatches)
        raise EditError(msg)


def recipe_grids(recipe: Mapping[str, Any]) -> dict[str, CodeGrid]:
    """The grids a recipe embeds, by name (names are checked identifiers other than ``original``)."""
    grids = recipe.get("grids", {}) or {}
    if not isinstance(grids, dict):
        msg = "recipe 'grids' must map names to embedded grids"
        raise EditError(msg)
    out = {}
    for name, body in grids.items():
        if name == "original":
            msg = "recipe 'grids' may not redefine 'original'"
            raise EditError(msg)
        if not ops.GRID_NAME.fullmatch(name):
            msg = f"recipe grid name {name!r:.40} is not allowed: use a Python identifier of at most 64 characters"
            raise EditError(msg)
        try:
            out[name] = CodeGrid.from_dict(body, source=f"recipe grid {name!r}")
        except GridError as exc:
            raise EditError(str(exc)) from None
    return out


def recipe_ops(recipe: Mapping[str, Any]) -> list[ops.Op]:
    """The operations of a recipe, in order; an error names the op's position."""
    items = recipe.get("ops")
    if not isinstance(items, list):
        msg = "recipe 'ops' must be a list of op dicts"
        raise EditError(msg)
    out = []
    for i, item in enumerate(items):
        try:
            out.append(ops.from_json(item))
        except EditError as exc:
            name = item.get("op") if isinstance(item, dict) else None
            msg = f"recipe op {i} ({str(name)[:40]}): {exc}"
            raise EditError(msg) from None
    return out


def to_python(recipe: Mapping[str, Any], grid: str = "grid", codec: str = "codec") -> str:
    """Python code that replays ``recipe`` with the public API.

    Parameters
    ----------
    recipe : Mapping
        A recipe from :func:`make_recipe` (or one read with :func:`read_recipe`).
    grid, codec : str
        Names of the variables that hold the source grid and the codec where the code runs
        (Python identifiers).

    Returns
    -------
    str
        Source code; running it leaves the edited grid in ``session.grid``.
    """
    for value, what in ((grid, "grid"), (codec, "codec")):
        if not (isinstance(value, str) and value.isidentifier()):
            msg = f"{what} must name a Python variable (an identifier), got {value!r:.40}"
            raise EditError(msg)
    lines = [
        f"# Edits recorded by qtok_widgets.EditSession; expects `{grid}` (the source CodeGrid) and `{codec}`.",
        "from qtok_widgets import CodeGrid, EditSession",
        "",
    ]
    embedded = recipe_grids(recipe)
    if embedded:
        lines.append("grids = {")
        for name, embedded_grid in embedded.items():
            lines.append(f"    {name!r}: CodeGrid.from_dict({embedded_grid.to_dict()!r}),")
        lines.append("}")

    def grid_expr(name: str) -> str:
        return "session.original" if name == "original" else f"grids[{name!r}]"

    lines.append(f"session = EditSession({grid}, {codec})")
    lines.extend(op.to_python(grid_expr) for op in recipe_ops(recipe))
    return "\n".join(lines) + "\n"
