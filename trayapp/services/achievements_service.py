"""Achievements, opt-in and local only: recomputed from the app's own history, announced once.

:func:`load_history` gathers, read-only and blocking (a worker lane), what the rules of
:mod:`trayapp.core.achievements` read: the usage database's 5-hour and weekly readings and its poll
outcomes, the ledger's daily token sums in the report time zone, and the window scheduler's
attempts log. :class:`AchievementsService` recomputes at start, hourly and when
``achievements.enabled`` is turned on; it stores new unlocks (per account label) *before* announcing
them, all in one notification, so a restart never announces one again and a first run over a long
history gives one notification for everything it finds. The notification goes to the desktop (its
retro sound too, when sound is on); Telegram and Slack only with ``achievements.remote``.

Signals:
    changed(object): the list of :class:`~trayapp.core.achievements.Standing` after a recomputation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from trayapp import paths, runtime
from trayapp.core import achievements as ach
from trayapp.core.clock import Clock, SystemClock
from trayapp.store.achievements_repo import AchievementsStore, Unlock, read_usage_history

if TYPE_CHECKING:
    from trayapp.channels.dispatcher import Dispatcher

log = logging.getLogger(__name__)

HISTORY_DAYS = 120
INTERVAL = 3600.0
LOCAL_CHANNELS = ("desktop", "sound")


def report_zone(get_setting: Callable[[str], Any]) -> tzinfo:
    """The ledger reports' time zone (``tracking.timezone``), else the system's local zone."""
    from trayapp.services.ledger_service import resolve_timezone

    try:
        tz = resolve_timezone(str(get_setting("tracking.timezone") or ""))
    except ValueError:
        tz = None
    if tz is not None:
        return tz
    local = datetime.now().astimezone().tzinfo
    assert local is not None  # astimezone() always gives an aware datetime
    return local


def _ledger_days(get_setting: Callable[[str], Any], tz: tzinfo, since: datetime) -> list[ach.DayUse]:
    from trayapp.services.ledger_service import Tracker
    from trayapp.store.ledger import ledger_file

    if not ledger_file().exists():
        return []
    tracker = Tracker.from_config(SimpleNamespace(get=get_setting), tz=tz)
    try:
        report = tracker.daily(since.astimezone(tz).date(), stats_cache=False)
    finally:
        tracker.repo.close()
    out = []
    for label, t in report.rows.items():
        try:
            day = datetime.strptime(label, "%Y-%m-%d").date()
        except ValueError:
            continue
        out.append(ach.DayUse(day, t.input, t.cache_creation, t.cache_read, t.entries))
    return out


def _starts(limit: int = 1000) -> list[ach.Start]:
    from trayapp.core.schedule import Outcome
    from trayapp.store.schedule_store import ScheduleStore

    return [
        ach.Start(a.at, a.outcome is Outcome.VERIFIED, a.anchor_id) for a in ScheduleStore().attempts(limit)
    ]


def load_history(now: datetime, get_setting: Callable[[str], Any], tz: tzinfo | None = None) -> ach.History:
    """Everything the rules read, from the app's files (blocking; a part that fails is left out)."""
    zone = tz or report_zone(get_setting)
    since = now - timedelta(days=HISTORY_DAYS)
    samples: list[ach.Sample] = []
    polls: list[ach.Poll] = []
    days: list[ach.DayUse] = []
    starts: list[ach.Start] = []
    try:
        samples, polls = read_usage_history(paths.database_file(), since)
    except Exception as exc:  # a locked or damaged database: the rules see less, nothing breaks
        log.warning("achievements: usage history unreadable (%s)", exc)
    try:
        days = _ledger_days(get_setting, zone, since)
    except Exception as exc:
        log.warning("achievements: ledger unreadable (%s)", exc)
    try:
        starts = _starts()
    except Exception as exc:
        log.warning("achievements: scheduler attempts unreadable (%s)", exc)
    return ach.History(now, zone, samples, polls, days, starts)


class AchievementsService(QObject):
    changed = Signal(object)

    def __init__(
        self,
        dispatcher: Dispatcher | None,
        get_setting: Callable[[str], Any],
        *,
        clock: Clock | None = None,
        load: Callable[[datetime], ach.History] | None = None,
        store: AchievementsStore | None = None,
        account: str = "default",
        interval: float = INTERVAL,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.dispatcher = dispatcher
        self.get_setting = get_setting
        self.clock: Clock = clock or SystemClock()
        self._load = load or (lambda now: load_history(now, get_setting))
        self.store = store or AchievementsStore()
        self.account = account
        self.interval = interval
        self.standings: list[ach.Standing] = []
        self.unlocked: dict[str, Unlock] = {}
        self.announced: list[Any] = []  # alerts handed to the dispatcher (tests)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.get_setting("achievements.enabled"))

    async def recompute(self) -> list[ach.Standing]:
        """Evaluate the rules; store and announce what is new (once). Nothing while disabled."""
        if not self.enabled:
            return []
        async with self._lock:
            now = self.clock.now()
            history = await runtime.run_blocking(self._load, now, lane="io")
            standings = ach.evaluate(history)
            everything = await runtime.run_blocking(self.store.load, lane="io")
            mine = dict(everything.get(self.account, {}))
            new = ach.new_unlocks(standings, mine)
            quiet = self.store.rebuilt  # a lost file: its unlocks were announced before
            if new:
                for s in new:
                    assert s.earned_at is not None
                    mine[s.rule_id] = Unlock(s.rule_id, s.earned_at)
                everything[self.account] = mine
                try:
                    await runtime.run_blocking(self.store.save, everything, lane="io")
                except OSError as exc:
                    log.error("cannot save achievements (%s): announcing later", exc)
                    return self.standings
            self.standings, self.unlocked = standings, mine
        if new and not quiet:
            self._announce(new, now)
        self.changed.emit(standings)
        return standings

    def _announce(self, new: list[ach.Standing], now: datetime) -> None:
        alert = ach.announcement(new, now, self.account)
        if alert is None:
            return
        log.info("achievements unlocked: %s", ", ".join(s.rule_id for s in new))
        self.announced.append(alert)
        if self.dispatcher is None:
            return
        remote = bool(self.get_setting("achievements.remote"))
        only = [
            c.name for c in self.dispatcher.channels if c.enabled() and (remote or c.name in LOCAL_CHANNELS)
        ]
        runtime.spawn(self.dispatcher.dispatch(alert, only=only), f"announce {alert.key}", group=self)

    def start(self) -> None:
        self._task = runtime.spawn(self._run(), name="achievements", group=self)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await runtime.drain(2.0, group=self, cancel_after=True)

    async def _run(self) -> None:
        health = runtime.LoopHealth("achievements")
        while True:
            try:
                await self.recompute()
            except Exception as exc:
                await asyncio.sleep(health.failed(exc))
                continue
            health.succeeded()
            await asyncio.sleep(self.interval)
