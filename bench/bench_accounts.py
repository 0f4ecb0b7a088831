"""What several accounts cost the usage history: the popup's timeline query for one account when
the database also holds two other accounts' 90 days, against the same query on a database that
holds that account alone (the peer, in the same run); and a poll's write with the account column.

The timeline keeps its primary-key range scan on ``(window_id, fetched_at)`` (main db migration 2
adds no index there), so other accounts' rows in the range are read and filtered: the goal is at
most 3x the single-account time for three accounts (the rows scanned triple), with the 24 h
range, the one the popup opens on, under 10 ms.

    .venv/bin/python bench/bench_accounts.py [--days 90]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind  # noqa: E402
from trayapp.store.usage_repo import UsageRepo  # noqa: E402

START = datetime(2026, 8, 1, tzinfo=UTC)
IDS = ("five_hour", "seven_day", "seven_day_sonnet", "seven_day_opus")


def readings(n: int, offset: timedelta) -> list[UsageSnapshot]:
    out = []
    for i in range(n):
        at = START + offset + timedelta(minutes=5 * i)
        windows = tuple(
            Window(w, w, WindowKind.FIVE_HOUR, float(i % 100), at + timedelta(hours=1), timedelta(hours=5))
            for w in IDS
        )
        out.append(UsageSnapshot(at, Source.API, windows))
    return out


def fill(path: Path, keys: list[str], n: int) -> UsageRepo:
    repo = UsageRepo.open(path)
    for i, key in enumerate(keys):  # staggered polls: a different second for each account
        repo.for_account(key).save_snapshots(readings(n, timedelta(seconds=97 * i)))
    return repo


def timed(repo: UsageRepo, since: datetime, runs: int = 7) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = len(repo.history(["five_hour", "seven_day"], since))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    n = args.days * 288
    end = START + timedelta(minutes=5 * n)
    with tempfile.TemporaryDirectory(prefix="cw-bench-accounts-") as tmp:
        alone = fill(Path(tmp) / "alone.sqlite3", ["default"], n)
        three = fill(Path(tmp) / "three.sqlite3", ["default", "Work", "Spare"], n)
        work = three.for_account("Work")
        print(f"usage history: {args.days} days of 5-minute readings, 4 windows, per account")
        for label, span in (
            ("24 h", timedelta(hours=24)),
            ("7 d", timedelta(days=7)),
            ("90 d", timedelta(days=90)),
        ):
            peer, rows_peer = timed(alone, end - span)
            mine, rows_mine = timed(work, end - span)
            assert rows_mine == rows_peer, (rows_mine, rows_peer)
            print(
                f"  timeline {label:>4}: one account alone {peer:7.1f} ms, one of three {mine:7.1f} ms"
                f"  ({mine / peer:.2f}x, {rows_mine} rows)"
            )
        t0 = time.perf_counter()
        for snap in readings(200, timedelta(days=args.days + 1)):
            work.save_snapshot(snap)
        per_poll = (time.perf_counter() - t0) / 200 * 1000
        t0 = time.perf_counter()
        for snap in readings(200, timedelta(days=args.days + 1)):
            alone.save_snapshot(snap)
        peer_poll = (time.perf_counter() - t0) / 200 * 1000
        print(f"  one poll's write: {per_poll:.2f} ms (one account alone: {peer_poll:.2f} ms)")
        alone.close()
        three.close()


if __name__ == "__main__":
    main()
