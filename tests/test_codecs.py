"""load_codec: names, paths, the default choice and its log line, and clear errors."""

from __future__ import annotations

import logging

import pytest

from qtok_widgets import load_codec
from qtok_widgets.codecs import Codec
from qtok_widgets.codecs.builtin import BuiltinCodec
from qtok_widgets.errors import CodecError, QtokError


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(CodecError, match=r"unknown codec 'nope': use one of builtin, qwen, server"):
        load_codec("nope")


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(CodecError, QtokError)
    assert issubclass(CodecError, ValueError)


def test_builtin_by_name_has_the_qwen_contract() -> None:
    codec = load_codec("builtin")
    assert isinstance(codec, Codec)
    assert (codec.sample_rate, codec.frame_rate, codec.samples_per_frame) == (24000, 12.5, 1920)
    assert (codec.n_layers, codec.codebook_size) == (16, 2048)
    assert codec.device == "cpu"


def test_env_variable_picks_the_codec(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QTOK_CODEC", "builtin")
    with caplog.at_level(logging.INFO, logger="qtok_widgets"):
        codec = load_codec()
    assert codec.name == "builtin"
    lines = [r.getMessage() for r in caplog.records if "codec" in r.getMessage()]
    assert len(lines) == 1
    assert "$QTOK_CODEC" in lines[0]
    assert codec.load_reason == "from $QTOK_CODEC"
    assert load_codec("builtin").load_reason == "asked for"


def test_default_without_qwen_weights_falls_back_to_builtin(
    monkeypatch: pytest.MonkeyPatch, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("QTOK_CODEC", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: no Qwen checkpoint
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with caplog.at_level(logging.INFO, logger="qtok_widgets"):
        codec = load_codec()
    assert codec.name == "builtin"
    assert any("built-in codec" in r.getMessage() for r in caplog.records)
    assert "no Qwen checkpoint" in codec.load_reason
    assert BuiltinCodec().load_reason == "constructed directly"


def test_missing_checkpoint_directory_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CodecError) as info:
        load_codec(str(tmp_path / "no-such-checkpoint"))
    assert "\n" not in str(info.value)
