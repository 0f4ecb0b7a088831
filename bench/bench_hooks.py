"""Hook receiver throughput and the loop's worst stall, next to a bare asyncio peer.

The receiver (``services/local_server`` + ``services/hook_receiver``, token check, strict
parse, delivery to a callback) runs on this process's asyncio loop, as it does on the app's
qasync loop; a probe task on the same loop sleeps 5 ms at a time and records how late it wakes
(the GUI would stall as long). The load comes from a separate client process (threads with
blocking sockets), so the figures are the server's core only. Two client modes: keep-alive
connections, and a new connection per event. The peer is a bare ``asyncio.start_server`` that
reads the head and the body and answers 200, no checks, with the same load.

Goals (issue 13): >= 2,000 events/s on one core, worst stall <= 50 ms.

    .venv/bin/python bench/bench_hooks.py [--events 20000] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATH = "/hooks/v1/event"


def body(i: int) -> bytes:
    return json.dumps(
        {
            "session_id": f"bench-{i % 20:04d}",
            "transcript_path": "/home/u/.claude/projects/-home-u-proj/x.jsonl",
            "cwd": "/home/u/proj",
            "permission_mode": "default",
            "hook_event_name": "PermissionRequest" if i % 3 else "Notification",
            "tool_name": "Bash",
            "tool_input": {"command": f"git push origin branch-{i}", "description": "push"},
            "message": "Claude needs your permission to use Bash",
            "notification_type": "permission_prompt",
        }
    ).encode()


# -- client process ------------------------------------------------------------------------------


def client_main(port: int, token: str, events: int, clients: int, keep_alive: bool) -> None:
    def request(i: int) -> bytes:
        payload = body(i)
        return (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    def read_reply(sock: socket.socket, buf: bytearray) -> None:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"unexpected reply: {head[:80]!r}")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(rest) < length:
            rest += sock.recv(65536)
        buf[:] = rest[length:]

    def worker(start: int, count: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port)) if keep_alive else None
        buf = bytearray()
        for i in range(start, start + count):
            if sock is None:
                with socket.create_connection(("127.0.0.1", port)) as one:
                    one.sendall(request(i))
                    read_reply(one, bytearray())
                continue
            sock.sendall(request(i))
            read_reply(sock, buf)
        if sock:
            sock.close()

    per = events // clients
    threads = [threading.Thread(target=worker, args=(n * per, per)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"elapsed": time.perf_counter() - t0, "events": per * clients}))


# -- server side ---------------------------------------------------------------------------------


async def probe(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], time.perf_counter() - t0 - 0.005)


async def bare_peer() -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def run_load(port: int, token: str, events: int, clients: int, keep_alive: bool) -> tuple[float, float]:
    stop = asyncio.Event()
    worst = [0.0]
    probing = asyncio.create_task(probe(stop, worst))
    cmd = [sys.executable, __file__, "--client", str(port), token, str(events), str(clients)]
    cmd += ["--keep-alive"] if keep_alive else []
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    stop.set()
    await probing
    result = json.loads(out)
    return result["events"] / result["elapsed"], worst[0]


async def main_async(events: int, clients: int) -> None:
    from trayapp.services.hook_receiver import start_receiver
    from trayapp.services.local_server import Limits

    delivered = [0]

    def on_event(_event: object) -> None:
        delivered[0] += 1

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CLAUDE_WATCH_HOME"] = tmp
        running = await start_receiver(on_event, limits=Limits(max_requests_per_connection=10**9))
        from trayapp.store import local_endpoint

        endpoint = local_endpoint.load()
        assert endpoint is not None
        peer, peer_port = await bare_peer()
        print(f"hook receiver, {events} events from {clients} client threads in another process")
        for keep_alive in (True, False):
            mode = "keep-alive     " if keep_alive else "new connection "
            rate, stall = await run_load(running.port, endpoint.hook_token, events, clients, keep_alive)
            peer_rate, peer_stall = await run_load(peer_port, "-", events, clients, keep_alive)
            print(
                f"  {mode} receiver {rate:8.0f} events/s  worst stall {stall * 1000:5.1f} ms | "
                f"bare asyncio peer {peer_rate:8.0f} events/s  worst stall {peer_stall * 1000:5.1f} ms | "
                f"ratio {rate / peer_rate:4.2f}"
            )
        await asyncio.sleep(0.05)
        print(f"  delivered to on_event: {delivered[0]} (received {running.receiver.stats().received})")
        print("  goals: >= 2,000 events/s, worst stall <= 50 ms")
        peer.close()
        await running.stop()


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        port, token, events, clients = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        client_main(int(port), token, int(events), int(clients), "--keep-alive" in sys.argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main_async(args.events, args.clients))


if __name__ == "__main__":
    main()
