"""Shared pytest fixtures: the real speech clips shipped in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CLIPS = sorted(p for p in DATA.iterdir() if p.suffix in {".wav", ".mp3"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the real-browser tests last.

    Playwright's sync API keeps an event loop running in the main thread for the rest of the
    session, which pytest-jupyter's own loop (``jp_fetch`` tests) cannot share; running the
    browser tests after everything else also reports plain failures first.
    """
    browser_dir = Path(__file__).parent / "browser"

    def is_browser(item: pytest.Item) -> bool:
        return item.get_closest_marker("browser") is not None or browser_dir in Path(item.path).parents

    items.sort(key=is_browser)


@pytest.fixture(autouse=True)
def _journals_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editors journal their edits into a folder of this test's own, never into the repository."""
    monkeypatch.setenv("QTOK_JOURNAL_DIR", str(tmp_path_factory.mktemp("journals")))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder of the real speech clips (CMU ARCTIC, LibriSpeech, VCTK) and their licences."""
    return DATA


@pytest.fixture(scope="session")
def clip_paths() -> list[Path]:
    """Every real speech clip in tests/data."""
    return list(CLIPS)


@pytest.fixture(scope="session")
def speech_path() -> Path:
    """One short real speech clip (CMU ARCTIC a0007, 16 kHz WAV, 4.0 s)."""
    return DATA / "arctic_a0007.wav"


@pytest.fixture(scope="session")
def speech_roundtrip(speech_path: Path):
    """``(grid, decoded)``: the speech clip encoded and decoded directly with the built-in codec,
    the reference for what widgets and the server must answer."""
    from qtok_widgets import load_audio, load_codec

    codec = load_codec("builtin")
    grid = codec.encode(load_audio(speech_path))
    return grid, codec.decode(grid)


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random tiny Qwen3-TTS-Tokenizer-12Hz checkpoint (real model code), built once."""
    import importlib.util

    pytest.importorskip("transformers")
    if importlib.util.find_spec("qwen_tts") is None:
        pytest.skip("qwen-tts is not installed (pip install --no-deps qwen-tts==0.1.1)")
    from qtok_widgets.codecs.qwen_random import build_random_checkpoint

    return build_random_checkpoint(tmp_path_factory.mktemp("tiny_qwen"), preset="tiny", seed=0)
