"""The qtok server extension under pressure, on loopback only.

The in-process tests (pytest-jupyter's server, built-in codec, limits set small) check the
server's defences one by one: concurrent large uploads are spooled to disk, so the server's
memory stays flat; a client that trickles its body is cut off; a full work queue answers 503
with ``Retry-After``; a client that disconnects cancels its queued work. Each takes a few
seconds and a handful of requests.

The slow test starts one real ``jupyter server`` process (built-in codec) gets 200 encode and decode requests, 8 at a
time, made from short slices of the real clips in ``tests/data``: one encode for every three
decodes, as in an editing session, where audio is encoded once and its codes decoded again and
again. Every answer must be a success and exactly what the codec gives when called directly
(same codes, same samples), and the server's resident memory must come back near its level
after warm-up. Traffic goes to 127.0.0.1 only; the requests take well under a minute on a
quiet machine, and the test fails past ``MAX_RUN_S``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError

from qtok_widgets import CodeGrid, load_audio, load_codec
from qtok_widgets.audio import Audio

pytest_plugins = ["pytest_jupyter.jupyter_server"]

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


# ---------------------------------------------------------------------------- defences, in process

_MB = 1024 * 1024
N_UPLOADS = 4
UPLOAD_MB = 40
SPOOL_MB = 1
# what 4 concurrent 40 MB uploads may add to the server's traced memory at their peak
UPLOAD_PEAK_LIMIT_MB = 24


def _config(**qtok) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
        "QtokExtension": {"codec": "builtin", **qtok},
    }


def _service(serverapp):
    return serverapp.web_app.settings["qtok_service"]


def _wav_header(n_bytes: int, rate: int = 16000) -> bytes:
    """A 16-bit mono WAV header announcing ``n_bytes`` of samples."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + n_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
        + b"data"
        + struct.pack("<I", n_bytes)
    )


def _vm_hwm_mb() -> float | None:
    """Peak resident memory of this process (Linux ``VmHWM``) in MB, or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_vm_hwm() -> bool:
    """Reset the peak resident memory counter (Linux ``clear_refs``); False where refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def _raw_request(port: int, head: bytes, *, trickle_s: float | None = None, limit_s: float = 15.0):
    """Send ``head`` on a raw socket, then one body byte every ``trickle_s`` (if given), and
    return (answer bytes, seconds until the server closed the connection)."""

    def talk() -> tuple[bytes, float]:
        with socket.create_connection(("127.0.0.1", port), timeout=limit_s) as sock:
            sock.sendall(head)
            t0 = time.monotonic()
            sock.settimeout(trickle_s or limit_s)
            answer = b""
            while time.monotonic() - t0 < limit_s:
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    try:
                        sock.sendall(b"\0")
                    except OSError:
                        break
                    continue
                except OSError:
                    break
                if not data:
                    break
                answer += data
            return answer, time.monotonic() - t0

    return await asyncio.to_thread(talk)


def _head(jp_serverapp, jp_base_url: str, path: str, length: int) -> bytes:
    token = jp_serverapp.identity_provider.token
    return (
        f"POST {jp_base_url}qtok/api/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: token {token}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def _wait_for(condition, what: str, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {limit_s} s for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    "jp_server_config",
    [_config(max_upload_mb=2 * UPLOAD_MB, spool_mb=SPOOL_MB, max_duration_s=60, max_workers=2)],
)
async def test_concurrent_large_uploads_keep_memory_flat(jp_fetch):
    # 4 x 40 MB of 16 kHz WAV (21 minutes each, above the 60 s limit) at once: the bodies go to
    # temporary files, so the server's memory stays near its level before the uploads
    header = _wav_header(UPLOAD_MB * _MB - 44)
    block = memoryview(bytes(_MB))

    async def producer(write):
        await write(header)
        sent = len(header)
        while sent < UPLOAD_MB * _MB:
            piece = block[: min(_MB, UPLOAD_MB * _MB - sent)]
            await write(piece)
            sent += len(piece)

    async def upload():
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(
                "qtok",
                "api",
                "encode",
                method="POST",
                body_producer=producer,
                headers={"Content-Length": str(UPLOAD_MB * _MB)},
                request_timeout=60,
            )
        return info.value.code, json.loads(info.value.response.body)["message"]

    await jp_fetch("qtok", "api", "health")
    reset = _reset_vm_hwm()
    rss_before = _vm_hwm_mb()
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        answers = await asyncio.gather(*(upload() for _ in range(N_UPLOADS)))
        wall_s = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_peak = _vm_hwm_mb()
    assert (
        answers
        == [(400, "request body: audio is 1310.7 s long, above the limit of 60 s (max_duration_s=)")]
        * N_UPLOADS
    )
    rss = f"; peak RSS {rss_before:.0f} -> {rss_peak:.0f} MB" if reset and rss_peak is not None else ""
    print(f"\n{N_UPLOADS} x {UPLOAD_MB} MB uploads in {wall_s:.1f} s: traced peak {peak / _MB:.1f} MB{rss}")
    assert peak < UPLOAD_PEAK_LIMIT_MB * _MB, f"uploads raised traced memory by {peak / _MB:.0f} MB"


@pytest.mark.parametrize("jp_server_config", [_config(body_timeout_s=1.0)])
async def test_a_trickled_body_is_cut_off(jp_fetch, jp_serverapp, jp_http_port, jp_base_url):
    await jp_fetch("qtok", "api", "health")
    head = _head(jp_serverapp, jp_base_url, "encode", 100_000)
    answer, seconds = await _raw_request(jp_http_port, head, trickle_s=0.1, limit_s=15)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["message"].startswith("request body not received within 1 s (")
    assert body["message"].endswith("MB arrived; QtokExtension.body_timeout_s)")
    # answered and disconnected at the deadline, not when the client gave up
    assert 0.9 < seconds < 5.0
    service = _service(jp_serverapp)
    await _wait_for(lambda: service.in_flight == 0, "the slot to be freed")


@pytest.mark.parametrize("jp_server_config", [_config(max_workers=1, max_queue=1)])
async def test_a_full_queue_answers_503_with_retry_after(jp_fetch, jp_serverapp, speech_path):
    service = _service(jp_serverapp)
    await jp_fetch("qtok", "api", "health", params={"load": "1"})
    audio = speech_path.read_bytes()

    def encode():
        return jp_fetch("qtok", "api", "encode", method="POST", body=audio, request_timeout=60)

    service.codec_lock.acquire()  # the codec is busy: work waits for it
    try:
        waiting = [asyncio.ensure_future(encode()) for _ in range(2)]
        await _wait_for(lambda: service.in_flight == 2, "two uploads to be taken")
        with pytest.raises(HTTPClientError) as info:
            await encode()
        assert info.value.code == 503
        assert 1 <= int(info.value.response.headers["Retry-After"]) <= 60
        assert json.loads(info.value.response.body)["message"] == (
            "server busy: 2 uploads in progress, the most it takes at once "
            f"(QtokExtension.max_workers + max_queue); retry after {info.value.response.headers['Retry-After']} s"
        )
    finally:
        service.codec_lock.release()
    answers = await asyncio.gather(*waiting)
    assert [json.loads(r.body)["shape"][0] for r in answers] == [16, 16]
    await _wait_for(lambda: service.in_flight == 0, "the slots to be freed")
    # room again
    assert json.loads((await encode()).body)["shape"][0] == 16
    health = json.loads((await jp_fetch("qtok", "api", "health")).body)
    assert health["refused_busy"] == 1
    assert health["max_in_flight"] == 2


@pytest.mark.parametrize("jp_server_config", [_config(max_workers=1, max_queue=2)])
async def test_a_client_that_disconnects_cancels_its_queued_work(
    jp_fetch, jp_serverapp, jp_http_port, jp_base_url, speech_path
):
    service = _service(jp_serverapp)
    await jp_fetch("qtok", "api", "health", params={"load": "1"})
    audio = speech_path.read_bytes()
    head = _head(jp_serverapp, jp_base_url, "encode", len(audio))

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    jp_serverapp.log.addHandler(handler)
    service.codec_lock.acquire()
    try:
        # two complete requests whose clients hang up while their work waits: the first on the
        # worker thread (for the codec), the second in the pool's queue
        socks = []
        for _ in range(2):
            sock = await asyncio.to_thread(socket.create_connection, ("127.0.0.1", jp_http_port), 10)
            await asyncio.to_thread(sock.sendall, head + audio)
            socks.append(sock)
        await _wait_for(lambda: service.in_flight == 2, "both uploads to be taken")
        await asyncio.sleep(0.2)
        for sock in socks:
            sock.close()
        await _wait_for(lambda: service.cancelled == 2, "both requests to be cancelled")
        await _wait_for(lambda: service.in_flight == 0, "the slots to be freed")
    finally:
        service.codec_lock.release()
        jp_serverapp.log.removeHandler(handler)
    lines = [r for r in records if r.startswith("qtok POST")]
    assert len(lines) == 2
    assert all(" 499: client disconnected; its work was cancelled in " in line for line in lines)
    # the worker is free for the next client
    assert (
        json.loads((await jp_fetch("qtok", "api", "encode", method="POST", body=audio)).body)["shape"][0]
        == 16
    )
    assert json.loads((await jp_fetch("qtok", "api", "health")).body)["cancelled"] == 2


# ---------------------------------------------------------------------------- 200 requests, one process


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


@pytest.mark.slow
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
