"""Exception types for user errors.

Every error a user can cause (a bad file, an out-of-range frame, an unknown codec) is a
:class:`QtokError`, which is a :class:`ValueError`. Its message is one line that names the
problem and, where there is one, the valid range. The CLI turns these into exit status 2
with the message on stderr and no traceback; widgets show the message in place.
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "AudioFileNotFoundError",
    "CodecError",
    "EditError",
    "GridError",
    "QtokError",
]


class QtokError(ValueError):
    """Base class of every user-facing error raised by qtok_widgets."""


class AudioError(QtokError):
    """Audio could not be loaded: missing, unreadable, empty, non-finite or too long."""


class AudioFileNotFoundError(AudioError, FileNotFoundError):
    """The audio (or codes) file does not exist."""


class GridError(QtokError):
    """Codes are malformed: wrong shape, dtype, out-of-range code, or a refused file."""


class CodecError(QtokError):
    """A codec could not be loaded or cannot handle the given grid."""


class EditError(QtokError):
    """An edit operation was rejected; the session is left exactly as it was."""
