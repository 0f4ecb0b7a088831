"""The demo's first impression: a week of usage history, a local ledger and live sessions.

``claude-watch --demo`` used to start with an empty chart and empty panels. :func:`start_seeded_demo`
starts the simulated account (:mod:`trayapp.demo`) and, in the demo's own folder only
(:func:`trayapp.demo.enter_demo_home` moved every app folder and Claude Code's config folder into
a temporary one), writes:

- a week of 5-minute readings (``core.demo_history``: work-day curves, resets, one window near its
  limit) into the demo's usage database, ending at the simulated server's first answer;
- a week of Claude Code transcripts across four projects and three models, which the app's own
  transcript scan turns into the local ledger (so the local-usage panel is the real code path);
- nothing for the sessions: :func:`sessions_reader` answers the sessions service from memory
  (four sessions: needs you, working with a long name, working, idle), so no made-up session ever
  reaches a registry, a status line capture or a hook file.

Everything is deterministic for a given ``now`` and takes well under a second (one SQLite
transaction for about 2,000 readings, and about 1 MB of transcript lines); the app runs it
on a worker lane.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp import paths
from trayapp.core.demo_history import Sample, usage_history
from trayapp.core.models import Source, UsageSnapshot, Window, WindowKind
from trayapp.core.sessions import JobRecord
from trayapp.demo import DemoHandle, UsageSimulator, enter_demo_home, start_demo
from trayapp.services.sessions_service import SourceData
from trayapp.sources.statusline_capture import LiveSession
from trayapp.sources.usage_parse import parse_usage
from trayapp.store.usage_repo import UsageRepo

DEMO_DB = "claude-watch-demo.sqlite3"  # services/usage_engine.py opens the same name
HISTORY_DAYS = 7.0
HOME = "/home/demo/src"
MODELS = {  # display name -> the model id transcripts carry
    "Opus 4.8": "claude-opus-4-8",
    "Sonnet 4.5": "claude-sonnet-4-5-20250929",
    "Haiku 4.5": "claude-haiku-4-5-20251001",
}


@dataclass(frozen=True, slots=True)
class DemoSession:
    """One made-up live Claude Code session (a job record plus a status line capture)."""

    session_id: str
    project: str
    model: str  # a key of MODELS
    state: str | None  # the job's state (working, blocked), None for an idle one
    since: timedelta  # in that state for this long when the demo starts
    context_percent: float
    cost_usd: float
    name: str | None = None
    reason: str | None = None  # what a blocked session asks

    @property
    def project_dir(self) -> str:
        return f"{HOME}/{self.project}"


SESSIONS = (
    DemoSession(
        "5e55a001-de70-4b1e-9a11-000000000001", "webapp", "Opus 4.8", "blocked",
        timedelta(minutes=3), 71.5, 3.42, reason="Allow Bash: npm run build -- --production",
    ),
    DemoSession(
        "5e55a002-de70-4b1e-9a11-000000000002", "claude-watch", "Sonnet 4.5", "working",
        timedelta(minutes=12), 38.0, 0.87,
        name="Make every popup line fit at 2x scaling, dark theme included",
    ),
    DemoSession(
        "5e55a003-de70-4b1e-9a11-000000000003", "docs-site", "Opus 4.8", "working",
        timedelta(minutes=41), 54.0, 1.96,
    ),
    DemoSession(
        "5e55a004-de70-4b1e-9a11-000000000004", "api", "Haiku 4.5", None,
        timedelta(minutes=25), 12.0, 0.05,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeedCounts:
    """What :func:`seed` wrote (the tests and the log say it)."""

    readings: int
    transcripts: int
    requests: int


# ----- usage history


def seed_usage(repo: UsageRepo, sim: UsageSimulator, now: datetime, days: float = HISTORY_DAYS) -> int:
    """Store ``days`` of readings ending at the simulator's answer at ``now``; returns how many."""
    current = parse_usage(sim.usage_body(now.timestamp()), now, Source.DEMO).snapshot
    return len(repo.save_snapshots(history_snapshots(current, now, days)))  # one transaction


def history_snapshots(current: UsageSnapshot, now: datetime, days: float) -> list[UsageSnapshot]:
    """The readings of :func:`core.demo_history.usage_history` in the shape of ``current``: the
    5-hour windows follow its 5-hour curve, every weekly one its weekly curve (scaled by its share
    of the all-models weekly figure now, as the simulator scales them)."""
    five = current.window("five_hour")
    week = current.window("seven_day")
    if five is None or week is None or five.resets_at is None or week.resets_at is None:
        return [current]
    samples = usage_history(
        now,
        five_now=five.utilization,
        five_reset=five.resets_at,
        week_now=week.utilization,
        week_reset=week.resets_at,
        days=days,
    )

    def at(w: Window, s: Sample) -> Window:  # the constructor: dataclasses.replace costs 3x more
        if w.kind is WindowKind.FIVE_HOUR:
            return Window(w.id, w.label, w.kind, s.five, s.five_reset, w.length)
        share = w.utilization / week.utilization if week.utilization else 1.0
        return Window(w.id, w.label, w.kind, round(min(100.0, s.week * share), 1), s.week_reset, w.length)

    extra = current.extra_usage
    return [
        UsageSnapshot(s.at, current.source, tuple(at(w, s) for w in current.windows), extra) for s in samples
    ]


# ----- transcripts (the local ledger)


def write_transcripts(projects_dir: Path, now: datetime, days: int = 7, seed: int = 11) -> tuple[int, int]:
    """A week of Claude Code transcripts under ``projects_dir``: one file per project and day, the
    live sessions' files today; returns (files, requests)."""
    rng = random.Random(seed)
    files = requests = 0
    local_now = now.astimezone()
    for back in range(days, -1, -1):
        day = (local_now - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
        for k, session in enumerate(SESSIONS):
            lines = _day_lines(rng, session, day, now, back, k)
            if not lines:
                continue
            sid = session.session_id if back == 0 else f"{session.session_id[:-4]}{back:02d}{k:02d}"
            folder = projects_dir / session.project_dir.replace("/", "-")
            folder.mkdir(parents=True, exist_ok=True)
            text = "".join(_line(rng, sid, session, *x) for x in lines)
            (folder / f"{sid}.jsonl").write_text(text, "utf-8")
            files += 1
            requests += len(lines)
    return files, requests


def _day_lines(
    rng: random.Random, session: DemoSession, day: datetime, now: datetime, back: int, k: int
) -> list[tuple[datetime, int, str]]:
    """(time, request number, model id) of one project's requests on one day."""
    if day.weekday() >= 5 and rng.random() < 0.6:
        return []
    start = day + timedelta(hours=8.5 + k * 0.7 + rng.uniform(0, 1))
    end = day + timedelta(hours=18 + rng.uniform(0, 1.5))
    if back == 0:  # today: up to now, and at least the last two hours, whatever the hour
        start, end = min(start, now - timedelta(hours=2)), now - session.since / 4
    out: list[tuple[datetime, int, str]] = []
    t = start
    while t < end:
        model = MODELS[session.model] if rng.random() < 0.8 else rng.choice(list(MODELS.values()))
        out.append((t, len(out), model))
        t += timedelta(minutes=rng.uniform(2, 14))
    return [x for x in out if x[0] <= now]


def _line(rng: random.Random, sid: str, session: DemoSession, at: datetime, n: int, model: str) -> str:
    usage = {
        "input_tokens": rng.randint(3, 60),
        "cache_creation_input_tokens": rng.choice((0, 0, rng.randint(500, 30_000))),
        "cache_read_input_tokens": rng.randint(15_000, 140_000),
        "output_tokens": rng.randint(150, 4_500),
    }
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    line = {
        "type": "assistant",
        "timestamp": stamp,
        "sessionId": sid,
        "cwd": session.project_dir,
        "version": "2.1.140",
        "requestId": f"req_demo_{sid[:8]}_{n:05d}",
        "message": {
            "id": f"msg_demo_{sid[-12:]}_{n:05d}",
            "role": "assistant",
            "model": model,
            "usage": usage,
        },
    }
    return json.dumps(line, separators=(",", ":")) + "\n"


# ----- live sessions


def sessions_reader(started: datetime) -> Callable[[Sequence[Path], bool, datetime], SourceData]:
    """A stand-in for ``sessions_service.read_sources``: the :data:`SESSIONS`, as seen at ``now``
    (their durations grow from ``started``, their captures stay fresh)."""

    def read(config_dirs: Sequence[Path], with_jobs: bool, now: datetime) -> SourceData:
        jobs = [
            JobRecord(
                job_id=f"demo-{s.session_id[-4:]}",
                config_dir="demo",
                session_id=s.session_id,
                name=s.name,
                cwd=s.project_dir,
                state=s.state,
                status="idle" if s.state is None else None,
                detail=s.reason,
                started_at=started - s.since - timedelta(minutes=30),
                updated_at=started - s.since,
                kind="interactive",
            )
            for s in SESSIONS
        ]
        captures = [
            LiveSession(
                s.session_id, now - (s.since if s.state is None else timedelta(0)), s.project, s.project_dir,
                s.name, s.model, "2.1.140", s.context_percent, int(s.context_percent * 2000), 200_000,
                s.cost_usd, s.since + timedelta(minutes=30), 120 + 40 * i, 15 * i, None,
            )
            for i, s in enumerate(SESSIONS)
        ]  # fmt: skip
        return SourceData(registry=[], captures=captures, jobs=jobs)

    return read


# ----- all of it


def seed(sim: UsageSimulator, now: datetime, claude_dir: Path, db: Path) -> SeedCounts:
    """Write the usage history into ``db`` and the transcripts under ``claude_dir/projects``."""
    repo = UsageRepo.open(db)
    try:
        readings = seed_usage(repo, sim, now)
    finally:
        repo.close()
    files, requests = write_transcripts(claude_dir / "projects", now)
    return SeedCounts(readings, files, requests)


def start_seeded_demo(now: datetime | None = None, **account: Any) -> DemoHandle:
    """Move the app into the demo folder (if not yet), start the simulated account there and seed
    it. ``account``: :func:`trayapp.demo.start_demo`'s options (the screenshots take an account
    near its limits). Blocking (SQLite, files): the app calls it on a worker lane."""
    root = enter_demo_home()
    claude_dir = paths.claude_config_dirs()[0]
    db = paths.database_file().with_name(DEMO_DB)
    for target in (claude_dir, db):
        if root not in target.parents:  # never seed a real folder
            raise RuntimeError(f"demo data would leave the demo folder {root}: {target}")
    demo = start_demo(config_dir=claude_dir, **account)
    try:
        seed(demo.simulator, now or datetime.now(UTC), claude_dir, paths.ensure(db.parent) / DEMO_DB)
    except Exception:
        demo.stop()
        raise
    return demo
