"""The local API's figures (issue 17), each next to a peer measured in the same run.

1. ``GET /v1/status`` latency p50/p95 with 50 concurrent keep-alive clients, against ``GET
   /health`` (the same server, no auth, no document) with the same load. The server is a real
   ``claude-watch serve --demo`` child process; the clients are raw sockets on this process's
   loop. Goal: p95 <= 20 ms.
2. SSE fan-out: a change published to 100 connected ``/v1/events`` clients, time until the last
   one has it, against the same change to 1 client. Server and clients on this loop (the
   server's share is what the app's loop would pay). Goal: <= 100 ms.
3. Idle CPU of a ``claude-watch serve`` (no credentials: the usage loop only ticks) with 10 SSE
   clients connected, against the same process with none. Goal: <= 0.2 % of one core.

    .venv/bin/python bench/bench_api.py [--requests 40] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_serve(home: Path, *extra: str) -> tuple[subprocess.Popen[str], int, str]:
    env = {**os.environ, "CLAUDE_WATCH_HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / "claude")}
    env["CLAUDE_WATCH_API_BASE"] = "http://127.0.0.1:9"  # never the real endpoint
    (home / "claude").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayapp", "serve", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"127\.0\.0\.1:(\d+)/", line)
        if found:
            token = (home / "state" / "api-token").read_text().strip()
            return proc, int(found.group(1)), token
    raise SystemExit("serve did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    return await reader.readexactly(length)


async def latencies(port: int, path: str, token: str, clients: int, requests: int) -> list[float]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    out: list[float] = []

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(requests):
            started = time.perf_counter()
            writer.write(request)
            await read_reply(reader)
            out.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return out


def events_request(port: int, token: str) -> bytes:
    return (
        f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def bench_latency(port: int, token: str, requests: int) -> None:
    await latencies(port, "/health", token, 5, 5)  # warm up
    for _ in range(3):
        health = await latencies(port, "/health", token, 50, requests)
        status = await latencies(port, "/v1/status", token, 50, requests)
    print(f"1. 50 concurrent clients x {requests} requests (ms):")
    print(f"   GET /health     p50 {pct(health, 0.5):6.2f}  p95 {pct(health, 0.95):6.2f}")
    print(f"   GET /v1/status  p50 {pct(status, 0.5):6.2f}  p95 {pct(status, 0.95):6.2f}   (goal p95 <= 20)")
    print(f"   ratio p95 status/health: {pct(status, 0.95) / max(pct(health, 0.95), 1e-6):.2f}x")


async def bench_fanout(rounds: int = 10) -> None:
    from tests.helpers.states import account_state, window_state
    from trayapp.services.local_api import ApiSources, LocalApi
    from trayapp.services.local_server import LocalServer

    async def nothing(_since: object) -> list[object]:
        return []

    token = "b" * 43
    api = LocalApi(
        ApiSources(
            lambda: None,
            dict,
            nothing,
            nothing,
            {
                "alerts.enabled": True,
                "alerts.desktop": True,  # type: ignore[arg-type]
                "alerts.five_hour_thresholds": [50],
                "alerts.weekly_thresholds": [50],
            }.__getitem__,
        ),  # fmt: skip
        token=token,
    )
    server = LocalServer(api.routes())
    port = await server.start()
    api.port = port

    async def fanout(n: int) -> list[float]:
        conns = []
        for _ in range(n):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(events_request(port, token))
            await reader.readuntil(b"\r\n\r\n")
            conns.append((reader, writer))
        while api.events.clients < n:
            await asyncio.sleep(0.01)
        times = []
        for i in range(rounds):
            marker = f'"utilization":{10.0 + i + n / 1000}'.encode()

            async def wait_for(reader: asyncio.StreamReader, marker: bytes = marker) -> None:
                buffer = b""
                while marker not in buffer:
                    buffer = buffer[-4096:] + await reader.read(65536)

            waiters = [asyncio.create_task(wait_for(r)) for r, _ in conns]
            await asyncio.sleep(0.01)
            started = time.perf_counter()
            api.publish_state(account_state(window_state("five_hour", 10.0 + i + n / 1000)))
            await asyncio.gather(*waiters)
            times.append(time.perf_counter() - started)
        for _, writer in conns:
            writer.close()
        await api.events.close()
        return times

    one = await fanout(1)
    hundred = await fanout(100)
    await server.stop()
    print("2. SSE fan-out, publish -> last client has it (ms, median of 10):")
    print(f"   to 1 client     {statistics.median(one) * 1000:7.2f}")
    print(f"   to 100 clients  {statistics.median(hundred) * 1000:7.2f}   (goal <= 100)")
    print(f"   ratio: {statistics.median(hundred) / statistics.median(one):.1f}x for 100x the clients")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench_idle(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, token = start_serve(Path(tmp))
        try:
            await asyncio.sleep(3)  # start-up settles
            before, t0 = cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(seconds)
            bare = (cpu_seconds(proc.pid) - before) / (time.monotonic() - t0) * 100
            conns = []
            for _ in range(10):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(events_request(port, token))
                conns.append((reader, writer))
            drain = [asyncio.create_task(_drain(r)) for r, _ in conns]
            await asyncio.sleep(1)
            before, t0 = cpu_seconds(proc.pid), time.monotonic()
            await asyncio.sleep(seconds)
            with_clients = (cpu_seconds(proc.pid) - before) / (time.monotonic() - t0) * 100
            for task in drain:
                task.cancel()
            for _, writer in conns:
                writer.close()
        finally:
            stop(proc)
    print(f"3. idle CPU of `serve` over {seconds:.0f} s (% of one core):")
    print(f"   no clients        {bare:6.3f}")
    print(f"   10 SSE clients    {with_clients:6.3f}   (goal <= 0.2)")


async def _drain(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, token = start_serve(Path(tmp), "--demo")
        try:
            await asyncio.sleep(2)  # the first demo poll
            await bench_latency(port, token, args.requests)
        finally:
            stop(proc)
    await bench_fanout()
    await bench_idle(args.idle_seconds)


if __name__ == "__main__":
    asyncio.run(main())
