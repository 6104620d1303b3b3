"""Small speech clips shipped with the package, for notebooks, demos and first steps.

``example_path("arctic_a0007")`` returns the path of a real CMU ARCTIC sentence;
``fox_take_a`` / ``fox_take_b`` are two synthetic takes of one sentence with different
timing and pitch, for prosody editing. See ``data/examples/README.md`` for sources and licences.
"""

from __future__ import annotations

from pathlib import Path

from .errors import AudioFileNotFoundError

__all__ = ["EXAMPLES_DIR", "example_path", "list_examples"]

EXAMPLES_DIR = Path(__file__).parent / "data" / "examples"


def list_examples() -> list[str]:
    """Names of the shipped example clips (without suffix)."""
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.wav"))


def example_path(name: str = "arctic_a0007") -> Path:
    """Path of a shipped example clip.

    Parameters
    ----------
    name : str
        One of :func:`list_examples` (``"arctic_a0007"``, ``"arctic_a0009"``, ``"fox_take_a"``,
        ``"fox_take_b"``); a ``.wav`` suffix is accepted.

    Raises
    ------
    AudioFileNotFoundError
        Unknown name; the message lists the available ones.
    """
    stem = name[:-4] if name.endswith(".wav") else name
    path = EXAMPLES_DIR / f"{stem}.wav"
    if not path.is_file():
        msg = f"no example clip {name!r}; available: {', '.join(list_examples())}"
        raise AudioFileNotFoundError(msg)
    return path
