"""Owns the list of Claude Code sessions: reads the sources, folds hook events, notifies.

:class:`SessionsService` keeps what each source last said (registry records, background jobs,
status line captures, one hook track per session) and merges them (pure
``core.session_merge.merge_sessions``) into the list the popup's Sessions panel, the tray badge and
the notifications read. Its loop reads the registry and the captures on the ``io`` lane at start,
when a watched folder changes (a ``QFileSystemWatcher`` on each ``<config dir>/sessions`` and
``jobs``; a folder that does not exist yet is watched through its parent) and every
:data:`POLL_SECONDS` (registry files outlive crashed processes, so liveness needs the poll anyway).
Changes within :data:`SETTLE_SECONDS` are read once. Background jobs may cost a child process
(``claude agents --json``), so they are read only when their folder or the registry changed, at
most every :data:`JOBS_MIN_SECONDS`, and every :data:`JOBS_FALLBACK_SECONDS` regardless. A failing
read is reported to a :class:`~trayapp.runtime.LoopHealth` ("sessions reader") and backed off; the
last good data stays.

Hook events come from the receiver on the loop thread (:meth:`SessionsService.on_hook_event`):
each is folded into its session's track at once, the notification policy
(``core.session_alerts``) decides, and a gathered notification goes to the dispatcher, the one
delivery path (desktop, sound, Telegram, Slack as enabled). The merged list is re-announced at most
every :data:`EMIT_SECONDS`, so a flood of events cannot flood the views. Tracks live in memory and
are pruned (ended sessions, sessions that left the registry, old ones, at most :data:`MAX_TRACKS`);
a copy goes to ``state/session-hooks.json`` a moment after they change, for ``claude-watch
sessions`` and ``doctor``.

Signals:
    sessions_changed(list): the merged sessions (``core.sessions.Session``), needs-you first.
    needs_you_changed(int): how many sessions wait for the user (the tray badge).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, Signal

from trayapp import paths, runtime
from trayapp.core.alert_policy import parse_quiet_hours
from trayapp.core.clock import Clock, SystemClock
from trayapp.core.session_alerts import SessionAlertConfig, SessionAlertMemory, decide, flush
from trayapp.core.session_merge import CAPTURE_TTL, merge_sessions, needs_you_count
from trayapp.core.sessions import (
    HookEvent,
    HookTrack,
    JobRecord,
    RegistryRecord,
    Session,
    SessionState,
    apply_hook,
)
from trayapp.runtime import LoopHealth
from trayapp.store import session_hooks

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
SETTLE_SECONDS = 0.25
JOBS_MIN_SECONDS = 10.0
JOBS_FALLBACK_SECONDS = 120.0
EMIT_SECONDS = 0.05
SAVE_SECONDS = 2.0
TRACK_TTL = timedelta(hours=6)  # a session silent this long and not in the registry is forgotten
DONE_TTL = timedelta(minutes=10)
MAX_TRACKS = 500


@dataclass(slots=True)
class SourceData:
    """What one read of the sources returned (``jobs`` None: not read this time)."""

    registry: list[RegistryRecord] = field(default_factory=list)
    captures: list[Any] = field(default_factory=list)
    jobs: list[JobRecord] | None = None


def read_sources(config_dirs: Sequence[Path], with_jobs: bool, now: datetime) -> SourceData:
    """Registry, captures and (when asked) jobs: blocking file reads and maybe a child process."""
    from trayapp.sources.session_registry import read_registry
    from trayapp.sources.statusline_capture import live_sessions

    data = SourceData(registry=read_registry(config_dirs), captures=live_sessions(now, CAPTURE_TTL))
    if with_jobs:
        from trayapp.sources.claude_jobs import read_jobs

        data.jobs = read_jobs(config_dirs)
    return data


def watched_folders(config_dirs: Sequence[Path]) -> list[Path]:
    """The folders whose changes matter: each config dir's ``sessions`` and ``jobs``."""
    return [d / sub for d in config_dirs for sub in ("sessions", "jobs")]


def nearest_existing(folder: Path) -> Path | None:
    """``folder`` or its closest existing ancestor (watched until ``folder`` appears)."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate
    return None


def settings_config(get: Callable[[str], Any], paused_until: datetime | None) -> SessionAlertConfig:
    """The notification policy's configuration from the settings and the alert service's pause."""
    return SessionAlertConfig(
        enabled=bool(get("alerts.enabled")),
        needs_you=bool(get("sessions.notify_needs_you")),
        finished=bool(get("sessions.notify_finished")),
        finished_min_seconds=float(get("sessions.finished_min_seconds")),
        failed=bool(get("sessions.notify_failed")),
        new_session=bool(get("sessions.notify_new_session")),
        quiet_hours=parse_quiet_hours(str(get("alerts.quiet_hours") or "")),
        paused_until=paused_until,
    )


class SessionsService(QObject):
    """The merged session list and the session notifications (see the module docstring).

    Args:
        get_setting: ``settings.get``.
        dispatcher: where decided notifications go (None: decided and logged, not sent).
        paused_until: the alert service's pause (its ``paused_until``), asked at each event.
        config_dirs: Claude Code's config folders (default ``paths.claude_config_dirs()``).
        reader: replaces :func:`read_sources` (tests).
        hooks_file: where the tracks are saved (None: not saved).
    """

    sessions_changed = Signal(list)
    needs_you_changed = Signal(int)

    def __init__(
        self,
        get_setting: Callable[[str], Any],
        dispatcher: Dispatcher | None = None,
        *,
        paused_until: Callable[[], datetime | None] = lambda: None,
        clock: Clock | None = None,
        config_dirs: Sequence[Path] | None = None,
        reader: Callable[[Sequence[Path], bool, datetime], SourceData] | None = None,
        hooks_file: Path | None = None,
        poll_seconds: float = POLL_SECONDS,
        health: LoopHealth | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.get_setting = get_setting
        self.dispatcher = dispatcher
        self.paused_until = paused_until
        self.clock: Clock = clock or SystemClock()
        self.config_dirs = list(config_dirs) if config_dirs is not None else paths.claude_config_dirs()
        self.reader = reader or read_sources
        self.hooks_file = hooks_file
        self.poll_seconds = poll_seconds
        self.health = health or LoopHealth("sessions reader")
        self.sessions: list[Session] = []
        self.needs_you = 0
        self.tracks: dict[str, HookTrack] = {}
        self.events_seen = 0
        self.events_by_name: Counter[str] = Counter()  # since start: the /metrics counter
        self.last_event: HookEvent | None = None
        self.reads = 0  # source reads so far (tests, the benchmark)
        self.jobs_reads = 0
        self._data = SourceData(jobs=[])
        self._in_registry: set[str] = set()
        self._memory = SessionAlertMemory()
        # Whether a session is one the agents feature runs and announces itself (start, end, failure).
        self.announced_elsewhere: Callable[[str], bool] = lambda _session_id: False
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._jobs_dirty = True
        self._jobs_read_at = float("-inf")  # time.monotonic() of the last jobs read
        self._watcher: QFileSystemWatcher | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}

    # ----- lifecycle (not start/stop: the panel starts and stops services that have those)
    def start_watching(self) -> None:
        """Watch the folders and run the read loop until :meth:`stop_watching`. Without a running
        loop (a widget test) nothing happens."""
        if self._task is not None and not self._task.done():
            return
        self._task = runtime.try_spawn(self._run(), "sessions reader", group=self)
        if self._task is not None:
            self._watch()

    def set_config_dirs(self, config_dirs: Sequence[Path]) -> None:
        """Read and watch these Claude Code config folders from now on (several accounts)."""
        self.config_dirs = list(config_dirs)
        if self._task is not None and not self._task.done():
            self._watch()
        self._wake.set()

    async def stop_watching(self, drain_seconds: float = 2.0) -> None:
        """Stop reading and watching, save the tracks, let notifications in flight finish (bounded)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._watcher is not None:
            self._watcher.directoryChanged.disconnect(self._folder_changed)
            self._watcher.deleteLater()
            self._watcher = None
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._flush_alerts()
        if self.hooks_file is not None and self.events_seen:
            await runtime.run_blocking(self._save_now, self._hook_state())
        await runtime.drain(drain_seconds, group=self, cancel_after=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # ----- hook events (on the loop thread)
    def on_hook_event(self, event: HookEvent) -> None:
        """Fold ``event`` into its session's track, let the policy decide, re-announce soon."""
        previous = self.tracks.get(event.session_id)
        track = apply_hook(previous, event)
        self.tracks[event.session_id] = track
        self.events_seen += 1
        self.events_by_name[event.event.value] += 1
        self.last_event = event
        session = next((s for s in self.sessions if s.session_id == event.session_id), None)
        now = self.clock.now()
        config = settings_config(self.get_setting, self.paused_until())
        elsewhere = self.announced_elsewhere(event.session_id)
        self._memory = decide(
            event, previous, track, session, config, self._memory, now, announced_elsewhere=elsewhere
        )
        self._arm_flush()
        if len(self.tracks) > MAX_TRACKS:
            self._prune(now)
        self._later("emit", EMIT_SECONDS, self._emit)
        if self.hooks_file is not None:
            self._later("save", SAVE_SECONDS, self._save)

    # ----- notifications
    def _arm_flush(self) -> None:
        due = self._memory.due_at
        if due is None:
            return
        handle = self._timers.pop("flush", None)
        if handle is not None:
            handle.cancel()
        self._later("flush", max(0.0, (due - self.clock.now()).total_seconds()), self._flush_alerts)

    def _flush_alerts(self) -> None:
        alert, self._memory = flush(self._memory, self.clock.now())
        if alert is not None:
            log.info("session alert %s: %s", alert.key, alert.title)
            if self.dispatcher is not None:
                task = runtime.try_spawn(self.dispatcher.dispatch(alert), f"alert {alert.key}", group=self)
                if task is None:
                    log.warning("no event loop: session alert delivery skipped")
        self._arm_flush()  # what arrived during the cooldown is due later

    # ----- reading the sources
    async def refresh(self, *, jobs: bool | None = None) -> list[Session]:
        """Read the sources once (jobs when due, or as ``jobs`` says), merge and announce."""
        want_jobs = self._jobs_due() if jobs is None else jobs
        now = self.clock.now().astimezone(UTC)
        if want_jobs:
            self._jobs_read_at = time.monotonic()
            self._jobs_dirty = False
        data = await runtime.run_blocking(self.reader, self.config_dirs, want_jobs, now, lane="io")
        self.reads += 1
        if data.jobs is not None:
            self.jobs_reads += 1
        else:
            data.jobs = self._data.jobs
        live = {r.session_id for r in data.registry if r.session_id}
        if live != self._in_registry:
            self._jobs_dirty = True  # a session came or went: background jobs may have too
        for gone in self._in_registry - live:  # its process ended: its hook track goes with it
            self.tracks.pop(gone, None)
        self._in_registry = live
        self._data = data
        self._prune(self.clock.now())
        return self._emit()

    def _jobs_due(self) -> bool:
        since = time.monotonic() - self._jobs_read_at
        return since >= JOBS_FALLBACK_SECONDS or (self._jobs_dirty and since >= JOBS_MIN_SECONDS)

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # logged once, backed off; the last good list stays
                await asyncio.sleep(self.health.failed(exc))
                continue
            self.health.succeeded()
            wait = self.poll_seconds
            if self._jobs_dirty:
                wait = min(wait, max(0.0, JOBS_MIN_SECONDS - (time.monotonic() - self._jobs_read_at)))
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
                await asyncio.sleep(SETTLE_SECONDS)  # let a burst of file changes settle
            except TimeoutError:
                pass
            self._wake.clear()

    def _watch(self) -> None:
        watcher = self._watcher
        if watcher is None:
            watcher = self._watcher = QFileSystemWatcher()
            watcher.directoryChanged.connect(self._folder_changed)
        wanted = {str(p) for f in watched_folders(self.config_dirs) if (p := nearest_existing(f)) is not None}
        have = set(watcher.directories())
        if wanted - have:
            watcher.addPaths(sorted(wanted - have))
        if have - wanted:
            watcher.removePaths(sorted(have - wanted))

    def _folder_changed(self, folder: str) -> None:
        changed = Path(folder)
        if changed.name != "sessions" or changed not in watched_folders(self.config_dirs):
            self._jobs_dirty = True  # a jobs folder, or a parent where the folders may have appeared
        if changed not in watched_folders(self.config_dirs):
            self._watch()
        self._wake.set()

    # ----- merging and pruning
    def _emit(self) -> list[Session]:
        self._timers.pop("emit", None)
        now = self.clock.now()
        sessions = merge_sessions(
            registry=self._data.registry,
            jobs=self._data.jobs or [],
            tracks=self.tracks,
            captures=self._data.captures,
            now=now,
        )
        if sessions != self.sessions:
            self.sessions = sessions
            self.sessions_changed.emit(list(sessions))
        count = needs_you_count(sessions)
        if count != self.needs_you:
            self.needs_you = count
            self.needs_you_changed.emit(count)
        return sessions

    def _prune(self, now: datetime) -> None:
        def keep(t: HookTrack) -> bool:
            age = now - t.last_event_at
            if t.state is SessionState.DONE:
                return age < DONE_TTL
            return t.session_id in self._in_registry or age < TRACK_TTL

        kept = sorted((t for t in self.tracks.values() if keep(t)), key=lambda t: t.last_event_at)
        self.tracks = {t.session_id: t for t in kept[-MAX_TRACKS:]}

    def _later(self, name: str, delay: float, fn: Callable[[], object]) -> None:
        """Call ``fn`` once after ``delay`` seconds; a call already scheduled under ``name`` stands."""
        if name in self._timers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            fn()
            return

        def fire() -> None:
            self._timers.pop(name, None)
            fn()

        self._timers[name] = loop.call_later(delay, fire)

    # ----- the state file
    def _hook_state(self) -> session_hooks.HookState:
        last = self.last_event
        return session_hooks.HookState(
            written_at=self.clock.now(),
            pid=os.getpid(),
            events_seen=self.events_seen,
            last_event=None
            if last is None
            else session_hooks.LastEvent(last.event.value, last.session_id, last.received_at, last.cwd),
            tracks=tuple(self.tracks.values()),
        )

    def _save(self) -> None:
        runtime.try_spawn(
            runtime.run_blocking(self._save_now, self._hook_state()), "save session hooks", group=self
        )

    def _save_now(self, state: session_hooks.HookState) -> None:
        try:
            session_hooks.save(state, self.hooks_file)
        except OSError as exc:
            log.warning("could not save %s: %s", self.hooks_file, exc)
