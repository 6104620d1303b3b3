"""A bounded load test of the qtok server extension on loopback.

One real ``jupyter server`` process (built-in codec) gets 200 encode and decode requests, 8 at a
time, made from short slices of the real clips in ``tests/data``: one encode for every three
decodes, as in an editing session, where audio is encoded once and its codes decoded again and
again. Every answer must be a success and exactly what the codec gives when called directly
(same codes, same samples), and the server's resident memory must come back near its level
after warm-up. Traffic goes to 127.0.0.1 only; the requests take well under a minute on a
quiet machine, and the test fails past ``MAX_RUN_S``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from qtok_widgets import CodeGrid, load_audio, load_codec
from qtok_widgets.audio import Audio

pytestmark = pytest.mark.slow

N_REQUESTS = 200
CONCURRENCY = 8
ENCODE_EVERY = 4
SLICE_S = 0.32
TOKEN = "qtok-load-test-token"
MAX_RUN_S = 120.0
# resident memory may grow this much over the warmed-up level (allocator slack, caches)
RSS_SLACK_MB = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    msg = f"no VmRSS for pid {pid}"
    raise RuntimeError(msg)


def _call(url: str, path: str, body: bytes | None = None, *, timeout_s: float = 60.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url + path, data=body, method="POST" if body is not None else "GET")
    req.add_header("Authorization", f"token {TOKEN}")
    if body is not None:
        req.add_header("Content-Type", "application/octet-stream")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A ``jupyter server`` process with the qtok extension and the built-in codec, on loopback."""
    root = tmp_path_factory.mktemp("qtok-load")
    config_dir = root / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
                "QtokExtension": {"codec": "builtin"},
            }
        )
    )
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_DATA_DIR": str(root / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    env.pop("QTOK_CODEC", None)
    log_path = root / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--no-browser",
                "--allow-root",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.port_retries=0",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if _call(url, "api/status", timeout_s=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter server did not start in 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield {"url": url, "pid": proc.pid, "log": log_path}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cases(clip_paths):
    """Short real speech slices (WAV bytes) with their direct codes and direct decodes."""
    codec = load_codec("builtin")
    out = []
    for path in clip_paths:
        audio = load_audio(path)
        start = int(0.5 * audio.sample_rate)  # skip leading silence
        piece = Audio(
            audio.samples[start : start + int(SLICE_S * audio.sample_rate)], audio.sample_rate, path.name
        )
        wav = piece.to_wav_bytes()
        grid = codec.encode(load_audio(wav))
        out.append(
            {
                "name": path.name,
                "wav": wav,
                "grid": grid,
                "codes": grid.to_bytes(".npz"),
                "audio": codec.decode(grid),
            }
        )
    return out


def _one(server_url: str, case: dict, kind: str) -> tuple[str, str, float]:
    """Run one request; return (kind, problem or "", seconds)."""
    t0 = time.perf_counter()
    if kind == "encode":
        status, body = _call(server_url, "qtok/api/encode?format=npz", case["wav"])
        elapsed = time.perf_counter() - t0
        if status != 200:
            return kind, f"{case['name']}: HTTP {status} {body[:200]!r}", elapsed
        if CodeGrid.from_bytes(body, ".npz") != case["grid"]:
            return kind, f"{case['name']}: codes differ from a direct encode", elapsed
    else:
        status, body = _call(server_url, "qtok/api/decode?sample_format=float32", case["codes"])
        elapsed = time.perf_counter() - t0
        if status != 200:
            return kind, f"{case['name']}: HTTP {status} {body[:200]!r}", elapsed
        if not np.array_equal(load_audio(body).samples, case["audio"].samples):
            return kind, f"{case['name']}: audio differs from a direct decode", elapsed
    return kind, "", elapsed


def test_200_requests_8_at_a_time(server, cases):
    url = server["url"]
    jobs = [
        (cases[i % len(cases)], "encode" if i % ENCODE_EVERY == 0 else "decode") for i in range(N_REQUESTS)
    ]

    # warm-up: load the codec and touch every code path once, then take the memory baseline
    assert _call(url, "qtok/api/health?load=1")[0] == 200
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        warm = list(pool.map(lambda job: _one(url, *job), jobs[: 2 * CONCURRENCY]))
    assert [p for _, p, _ in warm if p] == []
    rss_start = _rss_mb(server["pid"])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda job: _one(url, *job), jobs))
    wall_s = time.perf_counter() - t0
    rss_end = _rss_mb(server["pid"])

    problems = [p for _, p, _ in results if p]
    assert problems == []
    assert len(results) == N_REQUESTS
    health = json.loads(_call(url, "qtok/api/health")[1])
    assert health["failures"] == 0
    assert health["requests"] >= N_REQUESTS + 2 * CONCURRENCY
    assert wall_s < MAX_RUN_S, f"{N_REQUESTS} requests took {wall_s:.1f} s"
    assert rss_end <= rss_start + RSS_SLACK_MB, f"server RSS grew from {rss_start:.0f} MB to {rss_end:.0f} MB"

    times = {k: sorted(s for kind, _, s in results if kind == k) for k in ("encode", "decode")}
    summary = {
        k: f"median {v[len(v) // 2] * 1000:.0f} ms, p95 {v[int(0.95 * len(v))] * 1000:.0f} ms"
        for k, v in times.items()
    }
    print(
        f"\n{N_REQUESTS} requests ({CONCURRENCY} at a time) in {wall_s:.1f} s "
        f"({N_REQUESTS / wall_s:.1f} req/s); encode {summary['encode']}; decode {summary['decode']}; "
        f"server RSS {rss_start:.0f} MB -> {rss_end:.0f} MB"
    )
    # every request wrote its log line with timing and GPU memory
    lines = [line for line in server["log"].read_text().splitlines() if "qtok POST /qtok/api/" in line]
    assert len(lines) >= N_REQUESTS
    assert all(" in " in line and "GPU mem" in line for line in lines)
