"""Achievements on disk: what is unlocked, per account, in ``data/achievements.json``; and the
read-only history readers the rules run over (the usage database's readings and poll outcomes).

The unlocks file is small and replaced whole (:func:`~trayapp.store.files.atomic_write`). It is
read strictly: a size cap, every entry on its own, an unreadable file set aside as
``achievements.json.bad`` (the next recomputation finds the same unlocks again, with the same dates,
because the dates come from the history; only the "announced" marks are lost, so the service treats
a rebuilt file as already announced). The usage database is opened read-only (``mode=ro``): the
usage engine owns it and may be writing.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.achievements import Poll, Sample
from trayapp.store.files import atomic_write, read_capped

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000
WINDOWS = ("five_hour", "seven_day")


def unlocks_file() -> Path:
    return paths.data_dir() / "achievements.json"


@dataclass(frozen=True, slots=True)
class Unlock:
    rule_id: str
    earned_at: datetime
    announced: bool = True


class AchievementsStore:
    """Unlocks per account label (``"default"`` until accounts exist)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or unlocks_file()
        self.rebuilt = False  # the file was unreadable and set aside

    def load(self) -> dict[str, dict[str, Unlock]]:
        try:
            data = json.loads(read_capped(self.path, MAX_BYTES))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("achievements file %s unreadable (%s); set aside", self.path, exc)
            self.rebuilt = True
            try:
                os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            except OSError:
                pass
            return {}
        accounts = data.get("accounts") if isinstance(data, dict) else None
        out: dict[str, dict[str, Unlock]] = {}
        for account, unlocks in (accounts or {}).items() if isinstance(accounts, dict) else ():
            if isinstance(account, str) and isinstance(unlocks, dict):
                out[account] = {u.rule_id: u for u in (_unlock(k, v) for k, v in unlocks.items()) if u}
        return out

    def save(self, unlocks: dict[str, dict[str, Unlock]]) -> None:
        data: dict[str, Any] = {
            "version": 1,
            "accounts": {
                account: {
                    u.rule_id: {"earned_at": u.earned_at.isoformat(), "announced": u.announced}
                    for u in sorted(items.values(), key=lambda u: u.rule_id)
                }
                for account, items in unlocks.items()
            },
        }
        atomic_write(self.path, json.dumps(data, indent=1))


def _unlock(rule_id: Any, raw: Any) -> Unlock | None:
    if not isinstance(rule_id, str) or not isinstance(raw, dict):
        return None
    try:
        earned = datetime.fromisoformat(raw["earned_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if earned.tzinfo is None:
        return None
    return Unlock(rule_id, earned, bool(raw.get("announced", True)))


def _when(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_usage_history(db: Path, since: datetime) -> tuple[list[Sample], list[Poll]]:
    """The 5-hour and weekly readings and the poll outcomes since ``since``, read-only; nothing
    (not an error) when there is no database yet. Rows with absurd values are skipped."""
    if not db.exists():
        return [], []
    samples: list[Sample] = []
    polls: list[Poll] = []
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        rows = conn.execute(
            "SELECT fetched_at, window_id, utilization, resets_at FROM window_samples"
            f" WHERE window_id IN ({','.join('?' * len(WINDOWS))}) AND fetched_at >= ? ORDER BY fetched_at",
            (*WINDOWS, since.timestamp()),
        )
        for at, wid, util, resets in rows:
            when, reset = _when(at), _when(resets)
            if when is None or not isinstance(util, int | float) or not 0 <= util <= 1000:
                continue
            samples.append(Sample(when, str(wid), float(util), reset))
        for at, ok, status, kind in conn.execute(
            "SELECT at, ok, http_status, error_kind FROM poll_outcomes WHERE at >= ? ORDER BY at",
            (since.timestamp(),),
        ):
            when = _when(at)
            if when is not None:
                polls.append(Poll(when, bool(ok), status if isinstance(status, int) else None, kind))
    return samples, polls
