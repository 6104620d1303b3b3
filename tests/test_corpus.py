"""Corpus encoding on a local Ray of 2 CPUs, DuckDB statistics checked against numpy, find/concordance.

One module-scoped Ray and one encoded corpus (three real clips and a broken file) serve every
test: starting Ray costs most of this file's time.
"""

from __future__ import annotations

import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="the [corpus] extra is not installed (pip install 'qtok_widgets[corpus]')")
pytest.importorskip("duckdb", reason="the [corpus] extra is not installed")

from qtok_widgets import Corpus, load_audio, load_codec
from qtok_widgets.cli import main
from qtok_widgets.corpus import CorpusError, encode_corpus, resolve_inputs
from qtok_widgets.corpus.encode import start_local_ray

DATA = Path(__file__).parent / "data"
CLIPS = ("arctic_a0007.wav", "arctic_a0009.wav", "1320_00000.mp3")


@pytest.fixture(scope="module")
def ray_local():
    import ray

    start_local_ray(2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def built(ray_local, tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(DATA / CLIPS[0], src / CLIPS[0])
    shutil.copy(DATA / CLIPS[1], src / "sub" / CLIPS[1])
    shutil.copy(DATA / CLIPS[2], src / CLIPS[2])
    (src / "broken.wav").write_bytes(b"RIFF not really a wave file")
    out = root / "out"
    summary = encode_corpus([str(src)], out, codec="builtin", workers=2, files_per_shard=1)
    return {"src": src, "out": out, "summary": summary, "corpus": Corpus(out)}


@pytest.fixture(scope="module")
def grids(built):
    corpus = built["corpus"]
    return {uid: corpus.grid(uid) for uid in corpus.ids()}


def test_codes_equal_direct_encoding_and_errors_are_listed(built, grids):
    summary, corpus = built["summary"], built["corpus"]
    assert (summary.encoded, summary.failed, summary.skipped_shards) == (3, 1, 0)
    assert corpus.ids() == ["1320_00000", "arctic_a0007", "sub/arctic_a0009"]
    codec = load_codec("builtin")
    for uid, path in [("arctic_a0007", CLIPS[0]), ("sub/arctic_a0009", "sub/" + CLIPS[1])]:
        direct = codec.encode(load_audio(built["src"] / path))
        assert np.array_equal(grids[uid].codes, direct.codes)
        assert grids[uid].n_samples == direct.n_samples
    (err,) = corpus.errors()
    assert err["id"] == "broken" and err["source"].endswith("broken.wav")
    assert "\n" not in err["reason"] and "broken.wav" in err["reason"]
    manifest = json.loads((built["out"] / "corpus.json").read_text())
    assert manifest["n_utterances"] == 3 and manifest["n_errors"] == 1
    assert len(manifest["silence_codes"]) == 16


def _numpy_stats(grids: dict, silence: list[int], size: int = 2048) -> list[dict]:
    """Every statistic of corpus_stats, recomputed from the grids with numpy."""
    layers = []
    for layer in range(16):
        rows = [g.codes[layer].astype(np.int64) for g in grids.values()]
        counts = np.bincount(np.concatenate(rows), minlength=size)
        p = counts[counts > 0] / counts.sum()
        runs = []
        grams: dict[int, dict[tuple, int]] = {1: {}, 2: {}, 3: {}}
        for row in rows:
            collapsed = [k for k, _ in itertools.groupby(row.tolist())]
            runs += [len(list(g)) for _, g in itertools.groupby(row.tolist())]
            for n in (1, 2, 3):
                for i in range(len(collapsed) - n + 1):
                    gram = tuple(collapsed[i : i + n])
                    if silence[layer] not in gram:
                        grams[n][gram] = grams[n].get(gram, 0) + 1
        joint = np.zeros((size, size))
        for g in grids.values():
            np.add.at(joint, (g.codes[0], g.codes[layer]), 1)
        pj = joint / joint.sum()
        pa, pb = pj.sum(1, keepdims=True), pj.sum(0, keepdims=True)
        nz = pj > 0
        layers.append(
            {
                "used": int(np.count_nonzero(counts)),
                "entropy_bits": float(-(p * np.log2(p)).sum()),
                "mean_run": float(np.mean(runs)),
                "max_run": int(np.max(runs)),
                "grams": grams,
                "mi": float((pj[nz] * np.log2(pj[nz] / (pa @ pb)[nz])).sum()),
                "mm_bias": (nz.sum() - (pa > 0).sum() - (pb > 0).sum() + 1) / (2 * joint.sum() * np.log(2)),
            }
        )
    return layers


def test_stats_equal_numpy(built, grids):
    corpus = built["corpus"]
    stats = corpus.stats(top=5)
    silence = corpus.manifest["silence_codes"]
    expected = _numpy_stats(grids, silence)
    assert stats["n_utterances"] == 3
    assert stats["n_frames"] == sum(g.n_frames for g in grids.values())
    for got, want in zip(stats["layers"], expected, strict=True):
        assert got["used"] == want["used"]
        assert got["unused"] == 2048 - want["used"]
        assert got["entropy_bits"] == pytest.approx(want["entropy_bits"], abs=1e-9)
        assert got["perplexity"] == pytest.approx(2 ** want["entropy_bits"])
        assert got["runs"]["mean_frames"] == pytest.approx(want["mean_run"])
        assert got["runs"]["max_frames"] == want["max_run"]
        assert sum(got["runs"]["buckets"]) == pytest.approx(1.0)
        for n in ("1", "2", "3"):
            counts = sorted(want["grams"][int(n)].values(), reverse=True)[:5]
            assert [g["count"] for g in got["top_ngrams"][n]] == counts
            for g in got["top_ngrams"][n]:
                assert want["grams"][int(n)][tuple(g["codes"])] == g["count"]
        if got["layer"] == 0:
            assert got["mi_layer0_bits"] is None
        else:
            assert got["mi_layer0_bits"] == pytest.approx(want["mi"], abs=1e-9)
            assert got["mi_layer0_bits_corrected"] == pytest.approx(
                max(0.0, want["mi"] - want["mm_bias"]), abs=1e-9
            )


def test_find_and_concordance(built, grids):
    corpus = built["corpus"]
    layer = 2
    code = int(np.bincount(np.concatenate([g.codes[layer] for g in grids.values()])).argmax())
    want = [(uid, int(f)) for uid, g in sorted(grids.items()) for f in np.flatnonzero(g.codes[layer] == code)]
    got = corpus.find(layer, code)
    assert [(o.id, o.frame) for o in got] == want
    assert got[0].time_s == pytest.approx(got[0].frame / 12.5)
    assert len(corpus.find(layer, code, limit=1)) == 1

    snippets = corpus.concordance(layer, code, n=2, context_s=0.5)
    assert len(snippets) == min(2, len(want))
    for s in snippets:
        assert (s.id, s.frame) in want and s.origin == "file"
        assert s.audio.duration == pytest.approx(s.stop_s - s.start_s, abs=1e-3)
        assert s.frame_s == pytest.approx(s.frame / 12.5 - s.start_s)
    # a source that is gone: the snippet is decoded from the codes
    uid = snippets[0].id
    source = Path(corpus.source(uid))
    moved = source.with_name(source.name + ".away")
    source.rename(moved)
    try:
        decoded = corpus.snippet(uid, snippets[0].frame, 0.5)
    finally:
        moved.rename(source)
    assert decoded.origin == "decoded" and decoded.audio.sample_rate == 24000
    assert decoded.audio.duration == pytest.approx(decoded.stop_s - decoded.start_s, abs=1e-3)
    with pytest.raises(CorpusError, match=r"layer 16 is out of range: .* 0\.\.15"):
        corpus.find(16, 0)
    with pytest.raises(CorpusError, match="no utterance 'nope'"):
        corpus.grid("nope")


def test_killed_run_resumes_without_reencoding(built, ray_local, tmp_path):
    clip = DATA / CLIPS[1]
    manifest = tmp_path / "list.jsonl"
    manifest.write_text(
        "".join(json.dumps({"id": f"r{i}", "path": str(clip), "speaker": "bdl"}) + "\n" for i in range(6))
    )
    out = tmp_path / "out"
    address = ray_local.get_runtime_context().gcs_address
    cmd = [sys.executable, "-m", "qtok_widgets", "-q", "corpus", "encode", str(manifest), "-o", str(out)]
    cmd += ["--workers", "1", "--files-per-shard", "1", "--address", address, "--codec", "builtin"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list((out / "codes").glob("*.parquet"))) >= 2:
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(1.0)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "codes").glob("*.parquet")}
    assert 2 <= len(before) < 6, "the run was not stopped part-way"
    summary = encode_corpus([str(manifest)], out, codec="builtin", workers=2, files_per_shard=1)
    assert summary.skipped_shards >= len(before)
    assert summary.encoded == 6 - summary.skipped_files and summary.failed == 0
    for name, mtime in before.items():
        assert (out / "codes" / name).stat().st_mtime_ns == mtime
    corpus = Corpus(out)
    assert corpus.ids() == [f"r{i}" for i in range(6)]
    assert np.array_equal(corpus.grid("r3").codes, corpus.grid("r0").codes)
    # and a third run has nothing left to do
    again = encode_corpus([str(manifest)], out, codec="builtin", workers=2, files_per_shard=1)
    assert (again.skipped_shards, again.encoded) == (6, 0)


def _run_cli(args: list[str], capsys) -> tuple[int, list[str]]:
    rc = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


def test_cli_bad_inputs_are_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, err = _run_cli(["corpus", "encode", str(empty), "-o", str(tmp_path / "c")], capsys)
    assert rc == 2 and len(err) == 1 and "folder has no audio files" in err[0]

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / CLIPS[0], src / CLIPS[0])
    rc, err = _run_cli(["corpus", "encode", str(src), "-o", str(tmp_path / "c"), "--codec", "nosuch"], capsys)
    assert rc == 2 and len(err) == 1 and "unknown codec 'nosuch'" in err[0]

    rc, err = _run_cli(["corpus", "encode", str(src), "-o", str(src / "corpus")], capsys)
    assert rc == 2 and len(err) == 1 and "inside the input folder" in err[0]

    rc, err = _run_cli(["corpus", "encode", str(src), "-o", str(tmp_path / "c"), "--workers", "0"], capsys)
    assert rc == 2 and len(err) == 1 and "1..4096" in err[0]

    rc, err = _run_cli(["corpus", "stats", str(tmp_path)], capsys)
    assert rc == 2 and len(err) == 1 and "not a corpus" in err[0]


def test_cli_stats_json(built, capsys):
    assert main(["corpus", "stats", str(built["out"]), "--json", "--top", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_utterances"] == 3 and len(data["layers"]) == 16
    assert len(data["layers"][0]["top_ngrams"]["2"]) <= 3


def test_missing_extra_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    rc, err = _run_cli(["corpus", "encode", str(tmp_path), "-o", str(tmp_path / "c")], capsys)
    assert rc == 2 and len(err) == 1 and "pip install 'qtok_widgets[corpus]'" in err[0]


def test_manifest_ids_metadata_and_globs(tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(DATA / CLIPS[0], tmp_path / "a" / "x.wav")
    rows = "path,id,speaker,text,lang\na/x.wav,utt1,bdl,hello,en\n"
    (tmp_path / "m.csv").write_text(rows)
    (u,) = resolve_inputs([str(tmp_path / "m.csv")])
    assert (u.id, u.speaker, u.text, u.meta) == ("utt1", "bdl", "hello", {"lang": "en"})
    assert u.path == str((tmp_path / "a" / "x.wav").resolve())
    (g,) = resolve_inputs([str(tmp_path / "**" / "*.wav")])
    assert g.id == "a/x"
    with pytest.raises(CorpusError, match="two inputs have the id"):
        resolve_inputs([str(tmp_path / "a"), str(tmp_path / "a" / "x.wav")])
    (tmp_path / "bad.jsonl").write_text('{"id": "a"}\n')
    with pytest.raises(CorpusError, match="has no path"):
        resolve_inputs([str(tmp_path / "bad.jsonl")])


def test_explorer_lists_contexts_and_opens_the_editor(built, grids):
    from qtok_widgets import CorpusExplorer, TokenEditor

    explorer = CorpusExplorer(built["corpus"], n_contexts=2, context_s=0.3)
    codes, counts = explorer.top_codes(4)
    assert counts[0] == max(np.bincount(np.concatenate([g.codes[4] for g in grids.values()])))
    explorer.layer.value = 4
    assert list(explorer.figure.data[0].x[:3]) == [str(c) for c in codes[:3]]
    snippets = explorer.select(4, int(codes[0]))
    assert len(explorer.contexts.children) == len(snippets) == 2
    editor = explorer.open_context(1)
    assert isinstance(editor, TokenEditor)
    assert np.array_equal(editor.session.grid.codes, grids[snippets[1].id].codes)
