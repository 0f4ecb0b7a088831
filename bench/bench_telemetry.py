"""OTLP ingest throughput, the loop's worst stall and receive-to-visible latency, next to peers.

The telemetry receiver (``services/local_host`` serving ``services/telemetry_receiver``: token,
content type, decode in slices on the loop, the fold, SQLite on a worker lane) runs on
this process's asyncio loop as on the app's qasync loop; a probe task on the same loop sleeps
10 ms at a time and records how late it wakes (the GUI would stall as long). The load comes from
a separate client process posting Claude-Code-shaped ``ExportLogsServiceRequest`` bodies (500
``api_request`` records each, 14 attributes, as Claude Code's batch processor sends them) over
one keep-alive connection, protobuf and JSON, so the figures are the server's core only.

Peers with the same bodies from the same client: a bare ``asyncio.start_server`` that reads
each post and answers 200 (the transport's ceiling), and ``json.loads`` of the JSON bodies in
this process (parsing alone). Receive-to-visible: one ``api_request`` posted, then the time
until the sessions panel (offscreen, wired as the app wires it) shows the session's figures.

Goals (issue 18): >= 5,000 events/s on one core, worst stall <= 50 ms, visible <= 1 s.

    .venv/bin/python bench/bench_telemetry.py [--posts 60] [--per-post 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_hooks import bare_peer  # noqa: E402  (the same bare asyncio peer as the hook receiver's)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

T0_NS = int(time.time()) * 10**9


def logs_request(first: int, count: int) -> Any:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    for key, value in (("service.name", "claude-code"), ("service.version", "2.1.0")):
        kv = rl.resource.attributes.add()
        kv.key, kv.value.string_value = key, value
    scope = rl.scope_logs.add()
    scope.scope.name = "com.anthropic.claude_code.events"
    for i in range(first, first + count):
        record = scope.log_records.add()
        record.time_unix_nano = T0_NS + i * 1000
        record.body.string_value = "claude_code.api_request"
        attrs = {
            "session.id": f"bench-session-{i % 40:03d}",
            "user.account_uuid": "acct-1",
            "terminal.type": "xterm",
            "app.version": "2.1.0",
            "event.name": "api_request",
            "event.timestamp": "2026-12-03T15:07:02.935Z",
            "prompt.id": f"prompt-{i // 7}",
            "model": ("claude-opus-4-1", "claude-sonnet-4-5")[i % 2],
            "input_tokens": str(100 + i % 900),
            "output_tokens": str(20 + i % 300),
            "cache_read_tokens": "12000",
            "cache_creation_tokens": "350",
            "cost_usd": "0.0123",
            "duration_ms": str(900 + i % 4000),
        }
        for key, value in attrs.items():
            kv = record.attributes.add()
            kv.key, kv.value.string_value = key, value
    return request


def bodies(posts: int, per_post: int, offset: int) -> dict[str, list[bytes]]:
    from google.protobuf import json_format

    messages = [logs_request(offset + n * per_post, per_post) for n in range(posts)]
    return {
        "protobuf": [m.SerializeToString() for m in messages],
        "json": [json_format.MessageToJson(m, indent=None).encode() for m in messages],
    }


# -- client process ------------------------------------------------------------------------------


def client_main(port: int, token: str, path: str, media: str) -> None:
    posts: list[bytes] = pickle.loads(Path(path).read_bytes())
    sock = socket.create_connection(("127.0.0.1", port))
    buf = b""
    t0 = time.perf_counter()
    for payload in posts:
        head = (
            f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {media}\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        sock.sendall(head.encode() + payload)
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        reply, _, buf = buf.partition(b"\r\n\r\n")
        if not reply.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"unexpected reply: {reply[:80]!r}")
        length = int(reply.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(buf) < length:
            buf += sock.recv(65536)
        buf = buf[length:]
    print(json.dumps({"elapsed": time.perf_counter() - t0}))
    sock.close()


# -- server side ---------------------------------------------------------------------------------


async def probe(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.010)
        worst[0] = max(worst[0], time.perf_counter() - t0 - 0.010)


async def run_load(port: int, token: str, posts: list[bytes], media: str, tmp: Path) -> tuple[float, float]:
    """(elapsed seconds, worst stall seconds) of one client process posting ``posts``."""
    file = tmp / f"posts-{media.rsplit('/', 1)[-1]}.pickle"
    file.write_bytes(pickle.dumps(posts))
    stop = asyncio.Event()
    worst = [0.0]
    probing = asyncio.create_task(probe(stop, worst))
    cmd = [sys.executable, __file__, "--client", str(port), token, str(file), media]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    stop.set()
    await probing
    return float(json.loads(out)["elapsed"]), worst[0]


async def visible_latency(host: Any, port: int, token: str, runs: int = 20) -> list[float]:
    """Seconds from posting one api_request to the sessions panel showing its session's figures."""
    from PySide6.QtCore import QObject, Signal

    from trayapp.core.sessions import Session, SessionState
    from trayapp.ui.panels.sessions import make_panel

    class Listed(QObject):
        sessions_changed = Signal(list)

        def __init__(self) -> None:
            super().__init__()
            self.sessions = [Session(f"visible-{n}", SessionState.WORKING, "proj") for n in range(runs)]

    panel = make_panel(Listed(), telemetry=host.telemetry)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seen: list[float] = []
    for n in range(runs):
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

        one = ExportLogsServiceRequest()
        record = one.resource_logs.add().scope_logs.add().log_records.add()
        record.time_unix_nano = time.time_ns()
        for key, value in (("event.name", "api_request"), ("session.id", f"visible-{n}"), ("model", "opus"),
                           ("input_tokens", "10"), ("cost_usd", "0.01")):  # fmt: skip
            kv = record.attributes.add()
            kv.key, kv.value.string_value = key, value
        payload = one.SerializeToString()
        await asyncio.sleep(0.3)  # past the notification throttle: each post is a fresh change
        t0 = time.perf_counter()
        writer.write(
            f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/x-protobuf\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        while panel.figures_for(f"visible-{n}") is None:
            await asyncio.sleep(0.001)
        seen.append(time.perf_counter() - t0)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]))
    writer.close()
    panel.deleteLater()
    return seen


async def main_async(posts: int, per_post: int) -> None:
    from trayapp import settings as st
    from trayapp.services.local_host import LocalHost, app_sources
    from trayapp.services.local_server import Limits
    from trayapp.store import local_endpoint

    events = posts * per_post
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["CLAUDE_WATCH_HOME"] = str(tmp / "home")
        settings = st.load()
        settings.update({"api.enabled": False, "hooks.receiver": False})
        host = LocalHost(
            settings, app_sources(settings, None, None), limits=Limits(max_requests_per_connection=10**9)
        )
        await host.start()
        endpoint = local_endpoint.load()
        assert endpoint is not None
        assert host.port is not None
        peer, peer_port = await bare_peer()
        print(
            f"OTLP receiver, {events} api_request events in {posts} posts of {per_post}, one client process"
        )
        for n, media in enumerate(("application/x-protobuf", "application/json")):
            load = bodies(posts, per_post, offset=n * events)["protobuf" if "protobuf" in media else "json"]
            size = sum(map(len, load)) / len(load) / 1024
            elapsed, stall = await run_load(host.port, endpoint.hook_token, load, media, tmp)
            peer_elapsed, peer_stall = await run_load(peer_port, "-", load, media, tmp)
            rate, peer_rate = events / elapsed, events / peer_elapsed
            print(
                f"  {media:23} ({size:5.0f} KiB/post) receiver {rate:8.0f} events/s  worst stall "
                f"{stall * 1000:5.1f} ms | bare asyncio peer {peer_rate:9.0f} events/s  worst stall "
                f"{peer_stall * 1000:5.1f} ms | ratio {rate / peer_rate:4.2f}"
            )
            if "json" in media:
                t0 = time.perf_counter()
                for body in load:
                    json.loads(body)
                parse_rate = events / (time.perf_counter() - t0)
                print(f"  {'':23} json.loads of the same bodies alone: {parse_rate:8.0f} events/s "
                      f"(receiver / json.loads {rate / parse_rate:4.2f})")  # fmt: skip
        totals = host.telemetry.totals()
        assert totals is not None
        print(f"  counted: {sum(totals.requests.values())} requests (sent {2 * events})")
        seen = await visible_latency(host, host.port, endpoint.hook_token)
        print(
            f"  receive-to-visible in the sessions panel: median {statistics.median(seen) * 1000:5.1f} ms, "
            f"worst {max(seen) * 1000:5.1f} ms over {len(seen)} requests"
        )
        print("  goals: >= 5,000 events/s on one core, worst stall <= 50 ms, visible <= 1 s")
        peer.close()
        await host.stop()


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client_main(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--per-post", type=int, default=500)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    asyncio.run(main_async(args.posts, args.per_post))
    del app


if __name__ == "__main__":
    main()
