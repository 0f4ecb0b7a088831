"""Alert channel costs: ``notify test`` wall time, the price of a Claude-written quip, and the
outbox's overhead over bare HTTP posts, each next to a peer measured in the same run.

1. ``claude-watch notify test --channel telegram`` against a loopback Bot API server, with a
   canned quip (no API key) and with a Claude quip from a loopback Messages API (which pays the
   lazy ``anthropic`` import), interleaved with ``python -c pass``.
2. 200 alerts through ``TelegramChannel.send`` (SQLite outbox: enqueue, claim, mark sent) versus
   200 bare ``httpx`` posts of the same text to the same server.

    .venv/bin/python bench/bench_channels.py [--runs 7] [--alerts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.fake_keyring import MemoryKeyring  # noqa: E402
from tests.helpers.loopback_servers import AnthropicServer, TelegramServer  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 and "pass" not in cmd:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stdout}{proc.stderr}")
    return elapsed


def fmt(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms  min {min(values) * 1000:7.1f} ms"


def bench_cli(runs: int) -> None:
    telegram = TelegramServer().start()
    claude = AnthropicServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        base = {
            k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "DBUS_SESSION_BUS_ADDRESS")
        }
        base.update(
            CLAUDE_WATCH_HOME=tmp,
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            CLAUDE_WATCH_TELEGRAM_API_BASE=telegram.base_url,
            CLAUDE_WATCH_TELEGRAM_BOT_TOKEN=telegram.token,
            CLAUDE_WATCH_TELEGRAM_CHAT_ID="4242",
            ANTHROPIC_BASE_URL=claude.base_url,
        )
        with_key = {**base, "ANTHROPIC_API_KEY": claude.api_key}
        # Every run really sends: lift the per-hour cap in this temporary home.
        timed([sys.executable, "-m", "trayapp", "config", "set", "channels.max_per_hour", "120"], base)
        cli = [sys.executable, "-m", "trayapp", "notify", "test", "--channel", "telegram"]
        bare, canned, llm = [], [], []
        for _ in range(runs):
            bare.append(timed([sys.executable, "-c", "pass"], base))
            canned.append(timed(cli, base))
            llm.append(timed(cli, with_key))
    telegram.stop()
    claude.stop()
    b = statistics.median(bare)
    print(f"python -c pass                      {fmt(bare)}")
    print(f"notify test telegram, canned quip   {fmt(canned)}  ratio {statistics.median(canned) / b:5.1f}x")
    print(f"notify test telegram, Claude quip   {fmt(llm)}  ratio {statistics.median(llm) / b:5.1f}x")
    extra = (statistics.median(llm) - statistics.median(canned)) * 1000
    print(f"  cost of the Claude quip (lazy SDK import + call): {extra:.0f} ms")
    print(f"  messages received: {len(telegram.messages)} (expected {2 * runs})")


async def bench_outbox(alerts: int) -> None:
    import httpx

    from trayapp.channels.outbox import Outbox
    from trayapp.channels.telegram import TelegramChannel
    from trayapp.core.clock import FakeClock
    from trayapp.core.models import Alert, AlertKind, Level
    from trayapp.platform.secrets import SecretStore
    from trayapp.settings import BY_KEY

    telegram = TelegramServer().start()
    os.environ["CLAUDE_WATCH_TELEGRAM_API_BASE"] = telegram.base_url
    store = SecretStore(MemoryKeyring())
    store.set("telegram-bot-token", telegram.token)
    values = {"telegram.chat_id": "4242", "channels.max_per_hour": 120}

    def setting(key: str) -> object:
        return values.get(key, BY_KEY[key].default)

    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        box = Outbox(Path(tmp) / "outbox.sqlite3", clock=clock)
        channel = TelegramChannel(box, setting, store, clock=clock)
        text = "Ninety percent. Bold.\n\n5-hour window at 90%\nResets in 1h 12m"
        url = f"{telegram.base_url}/bot{telegram.token}/sendMessage"
        t0 = time.perf_counter()
        async with httpx.AsyncClient() as client:
            for _ in range(alerts):
                await client.post(url, json={"chat_id": "4242", "text": text})
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(alerts):
            now = clock.now()
            alert = Alert(
                f"k{i}", AlertKind.THRESHOLD, "five_hour", "5-hour", 90.0, Level.CRITICAL, now, "t", "b"
            )
            d = await channel.send(alert, "quip")
            assert d.ok, d
            clock.advance(31)  # stay under the per-hour cap
        queued = time.perf_counter() - t0
        box.close()
    telegram.stop()
    print(
        f"{alerts} bare httpx posts (one client)  {bare * 1000:8.1f} ms  {bare / alerts * 1000:6.2f} ms each"
    )
    print(
        f"{alerts} alerts through the outbox       {queued * 1000:8.1f} ms  "
        f"{queued / alerts * 1000:6.2f} ms each  ratio {queued / bare:4.1f}x"
        " (new client per send, SQLite claim/mark, keyring lookup)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--alerts", type=int, default=200)
    args = parser.parse_args()
    bench_cli(args.runs)
    asyncio.run(bench_outbox(args.alerts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
