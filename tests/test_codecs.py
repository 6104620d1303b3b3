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


def test_default_rule_is_one_function(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from qtok_widgets.codecs import default_codec_name

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: no Qwen checkpoint
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("QTOK_CODEC", "server")
    assert default_codec_name() == ("server", "from $QTOK_CODEC")
    name, reason = default_codec_name(use_env=False)  # a server whose $QTOK_CODEC is for its kernels
    assert name == "builtin" and reason.startswith("no Qwen checkpoint available locally")
    monkeypatch.delenv("QTOK_CODEC")
    assert default_codec_name() == (name, reason)
    assert load_codec().load_reason == reason


def test_hub_ids_are_told_from_paths(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qtok_widgets.codecs import QWEN_HUB_ID, is_hub_id

    assert is_hub_id(QWEN_HUB_ID)
    for text in ("./Qwen/x", "/abs/x", "~/x", "a/b/c", "builtin"):
        assert not is_hub_id(text), text
    (tmp_path / "owner" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert not is_hub_id("owner/name")  # a folder of that name is a local checkpoint path


def test_rates_and_sizes_have_no_default() -> None:
    """A backend that forgets its frame rate fails naming it, never runs with Qwen's numbers."""
    for attr in ("name", "sample_rate", "frame_rate", "n_layers", "codebook_size"):
        assert not hasattr(Codec, attr), attr

    class Forgetful(Codec):
        name = "forgetful"
        sample_rate = 16000
        n_layers = 8
        codebook_size = 1024

        def _encode_samples(self, samples, progress=None):
            raise NotImplementedError

        def _decode_codes(self, codes, mask):
            raise NotImplementedError

    with pytest.raises(AttributeError, match="frame_rate"):
        _ = Forgetful().samples_per_frame
    info = BuiltinCodec().info()
    assert "can_quantize" not in info and "can_decode_range" not in info
