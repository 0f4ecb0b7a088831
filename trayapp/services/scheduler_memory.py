"""What the window scheduler remembers across restarts: the last tick, the anchor instants it has
already handled, and the anchors whose automatic start failed (they remind until a start verifies).

Kept in ``paths.state_dir()/scheduler.json``, replaced whole (``store.files.atomic_write``) *before*
a reminder or a start goes out, so a crash or a restart never repeats one. Untrusted on reading: a
size cap, every field parsed on its own, unreadable parts dropped, a broken file set aside and the
scheduler carries on from now. Also :func:`local_zone`, the system's IANA zone the plan runs in.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trayapp import paths
from trayapp.store.files import atomic_write, read_capped

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024
FORGET_AFTER = timedelta(days=3)  # handled keys older than this cannot come due again
MAX_HANDLED = 500


def memory_file() -> Path:
    return paths.state_dir() / "scheduler.json"


def anchor_key(anchor_id: str, due_at: datetime) -> str:
    """One anchor occurrence: ``07:00@2026-12-03T06:00Z`` (the instant in UTC, to the minute)."""
    return f"{anchor_id}@{due_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


@dataclass(frozen=True, slots=True)
class SchedulerMemory:
    last_tick: datetime | None = None
    handled: dict[str, datetime] = field(default_factory=dict)  # anchor_key -> when handled
    demoted: frozenset[str] = frozenset()  # anchor ids whose auto start failed: they remind

    def handle(self, key: str, now: datetime) -> SchedulerMemory:
        """This memory with ``key`` handled (and keys older than FORGET_AFTER dropped)."""
        keep = {k: v for k, v in self.handled.items() if now - v < FORGET_AFTER}
        keep[key] = now
        if len(keep) > MAX_HANDLED:
            keep = dict(sorted(keep.items(), key=lambda kv: kv[1])[-MAX_HANDLED:])
        return replace(self, handled=keep)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "last_tick": self.last_tick.isoformat() if self.last_tick else None,
            "handled": {k: v.isoformat() for k, v in self.handled.items()},
            "demoted": sorted(self.demoted),
        }

    @classmethod
    def from_json(cls, data: Any) -> SchedulerMemory:
        if not isinstance(data, dict):
            return cls()
        handled: dict[str, datetime] = {}
        raw = data.get("handled")
        for k, v in (raw if isinstance(raw, dict) else {}).items():
            when = _aware(v)
            if when is not None and isinstance(k, str) and len(k) < 80:
                handled[k] = when
        demoted = data.get("demoted")
        ids = (
            frozenset(d for d in demoted if isinstance(d, str) and len(d) == 5)
            if isinstance(demoted, list)
            else ()
        )
        return cls(last_tick=_aware(data.get("last_tick")), handled=handled, demoted=frozenset(ids))


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def load(path: Path | None = None) -> SchedulerMemory:
    """The memory on disk; a missing file is a fresh start, a broken one is set aside (``.bad``)."""
    path = path or memory_file()
    try:
        data = json.loads(read_capped(path, MAX_BYTES))
    except FileNotFoundError:
        return SchedulerMemory()
    except (OSError, ValueError) as exc:
        log.warning("scheduler memory %s unreadable (%s); starting from now", path, exc)
        try:
            os.replace(path, path.with_name(path.name + ".bad"))
        except OSError:
            pass
        return SchedulerMemory()
    return SchedulerMemory.from_json(data)


def save(memory: SchedulerMemory, path: Path | None = None) -> None:
    atomic_write(path or memory_file(), json.dumps(memory.to_json(), indent=1))


def local_zone() -> ZoneInfo:
    """The system's time zone as an IANA zone (``TZ``, else ``/etc/localtime``'s link, else
    ``/etc/timezone``), or UTC when none can be named. Plans need a real zone for DST."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.partition("zoneinfo/")[2])
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    for name in candidates:
        if not name or name.startswith("/"):
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")
