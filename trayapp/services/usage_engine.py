"""The account-usage engine: credentials -> poll policy -> usage client -> store -> derived state.

Pure asyncio, no Qt (the Qt wrapper is :mod:`trayapp.services.usage_service`; the CLI drives the
engine directly). Each :meth:`UsageEngine.poll` re-reads the Claude Code credentials (in a
worker thread), asks the :class:`~trayapp.core.poll_policy.PollPolicy` whether a request may go
out, fetches, stores and derives. On failure the last good snapshot (restored from the store
across restarts) is kept and marked stale with the error.

Local sources (the statusline capture reader and similar) are callables ``(now) -> UsageSnapshot
| None``. A snapshot from them younger than the poll interval is the current value and the API
is not called for it, except for the "complete" poll every :data:`COMPLETE_EVERY` intervals,
which fetches what local sources lack (extra usage, scoped weekly limits); those API windows
and extra usage are merged under the local windows.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from trayapp.core.clock import Clock, SystemClock
from trayapp.core.derive import Sample, derive_state
from trayapp.core.models import AccountInfo, AccountState, ErrorKind, FetchError, Source, UsageSnapshot
from trayapp.core.poll_policy import Decision, PollPolicy, Wait
from trayapp.runtime import LoopHealth, run_blocking
from trayapp.sources.claude_version import detect_version, newest
from trayapp.sources.credentials import CredentialsReport, load_credentials
from trayapp.sources.usage_api import FetchResult, UsageClient
from trayapp.store.errors import DiskFull
from trayapp.store.usage_repo import UsageRepo

log = logging.getLogger(__name__)

LocalSource = Callable[[datetime], UsageSnapshot | None]
CredentialsLoader = Callable[[datetime], CredentialsReport]
COMPLETE_EVERY = 4
DEMO_INTERVAL = timedelta(seconds=20)


DISK_FULL_MESSAGE = (
    "Disk full: Claude Watch cannot save new readings; showing the last one. Free some space "
    "(the data folder is on a full disk) and it carries on by itself."
)
ENDPOINT_OFF_NOTICE = (
    "The usage endpoint is never asked (poll.endpoint is off): readings come from Claude Code's "
    "status line while a session runs."
)


class UsageEngine:
    """Owns the poll policy and the last good snapshot. One instance per account.

    Args:
        repo: the usage repository (main database).
        clock: time source (tests pass a FakeClock).
        client: the HTTP client (default: a :class:`UsageClient` for ``CLAUDE_WATCH_API_BASE``).
        interval: poll interval (at least 2 minutes).
        retention_days: history retention, pruned at most daily.
        local_sources: callables returning a fresh local snapshot or None.
        credentials_loader: ``(now) -> CredentialsReport`` (default: Claude Code's files/Keychain).
        rng: random source for backoff and wake jitter.
        probe_version: run ``claude --version`` (cached a day) for the User-Agent.
    """

    def __init__(
        self,
        repo: UsageRepo,
        *,
        clock: Clock | None = None,
        client: UsageClient | None = None,
        interval: timedelta = timedelta(minutes=5),
        retention_days: int = 90,
        local_sources: Sequence[LocalSource] = (),
        credentials_loader: CredentialsLoader | None = None,
        rng: random.Random | None = None,
        probe_version: bool = True,
        min_interval: timedelta | None = None,
        label: str | None = None,
    ) -> None:
        self.repo = repo
        self.label = label  # the account's, in logs and loop health (None: the only account)
        self.standard_captures = False  # reads every status line capture (see usage_accounts)
        self.clock = clock or SystemClock()
        self.client = client or UsageClient()
        self.retention_days = retention_days
        self.local_sources = list(local_sources)
        # poll.endpoint off: the usage endpoint is never called; readings come only from the
        # status line captures (and, later, hooks and telemetry).
        self.use_endpoint = True
        self._load_credentials = credentials_loader or (lambda now: load_credentials(now))
        self._probe_version = probe_version
        self._version_checked = False
        now = self.clock.now()
        self.policy = PollPolicy(
            self.clock,
            interval,
            rng=rng,
            cooldowns=repo.cooldowns(now),
            last_attempt=repo.last_attempt(),
            **({"min_interval": min_interval} if min_interval is not None else {}),
        )
        self.last_decision: Decision | None = None
        self.last_result: FetchResult | None = None
        # Attempts by outcome ("ok" or an ErrorKind value) since start: /metrics' polls counter.
        self.outcomes: Counter[str] = Counter()
        self._token_key: str | None = None
        self._account: AccountInfo | None = None
        self._notices: tuple[str, ...] = ()
        self._api_snapshot = repo.latest_snapshot([self.client.source])
        self._last_api_ok: datetime | None = self._api_snapshot.fetched_at if self._api_snapshot else None
        self._local_saved: datetime | None = None
        self._snapshot = repo.latest_snapshot()
        last = repo.last_outcome()
        self._error: FetchError | None = last.error if last is not None and not last.ok else None
        cooldown = max(self.policy.cooldowns().values(), default=None)
        if cooldown is not None and self._error is None:
            self._error = FetchError(ErrorKind.RATE_LIMITED, "The usage endpoint is rate-limiting.", cooldown)
        self.health = LoopHealth("usage poller" if label is None else f"usage poller ({label})")
        self._disk_full: DiskFull | None = None  # the latest write that met a full disk, this poll
        self._full_logged = False
        self._state = self._derive(now, self._snapshot, self._error)

    # --- public --------------------------------------------------------------------------------

    @property
    def state(self) -> AccountState:
        return self._state

    @property
    def interval(self) -> timedelta:
        return self.policy.interval

    def set_interval(self, interval: timedelta) -> None:
        self.policy.set_interval(interval)

    def next_poll_at(self) -> datetime | None:
        """When the next scheduled poll is due; None while stopped for credentials."""
        return self.policy.next_poll_at(self._token_key)

    async def poll(self, manual: bool = False) -> AccountState:
        """Re-read credentials, fetch if the policy allows (``manual``: the user asked), derive.

        Never raises (cancellation aside): network, server, credential and data trouble, and any
        unexpected exception at any step, end in a state that says what happened, and the poll
        policy backs off before the next attempt (an attempt reserves its backoff step before the
        request goes out, and a failure here records another).
        """
        try:
            state = await self._poll(manual)
        except Exception as exc:
            self.health.failed(exc)
            self.policy.record_failure(ErrorKind.INTERNAL, self._token_key)
            self.outcomes[ErrorKind.INTERNAL.value] += 1
            self._error = FetchError(
                ErrorKind.INTERNAL,
                f"Claude Watch hit an unexpected error while reading your usage ({type(exc).__name__}); "
                "retrying later. `claude-watch doctor` shows the details.",
            )
            self._state = self._derive(self.clock.now(), self._snapshot, self._error)
            return self._state
        if state.error is None or state.error.kind is not ErrorKind.INTERNAL:
            self.health.succeeded()
        return state

    async def _poll(self, manual: bool) -> AccountState:
        now = self.clock.now()
        report = await run_blocking(self._load_credentials, now)
        self._account = report.account
        self._notices = report.notices
        self._disk_full = None
        # Opened read-only on a full disk: try for writing again (someone may have made room).
        writable = await run_blocking(self.repo.reopen_writable)
        local = await run_blocking(self._fresh_local, now)
        if local is not None:
            await self._persist(self._save_local, local)
        # A fresh capture is the current value, also for a manual refresh: the endpoint is only
        # asked for what captures lack (extra usage, scoped limits) every few intervals.
        want_api = local is None or self._complete_due(now)
        error: FetchError | None = self._error
        if want_api and self.use_endpoint and not writable:
            # Without a place to note the attempt, a CLI run would fetch every time it is started:
            # no request until the database takes writes again; the stored reading is shown.
            self._disk_full = DiskFull(self.repo.path, "the database is open read-only")
        elif want_api and self.use_endpoint:
            error = await self._poll_api(now, report, manual)
        elif not self.use_endpoint:
            error = None  # nothing was asked of the endpoint; an old failure is not news
            self._notices = (*self._notices, ENDPOINT_OFF_NOTICE)
        current = self._merge(local) if local is not None else self._snapshot
        notices = self._notices
        if local is not None and error is not None:
            # Fresh local numbers are the truth; an API problem is only a hint then.
            notices = (*notices, error.message)
            error = None
        if self._disk_full is not None:
            if error is not None:  # still said, under the disk's problem
                notices = (*notices, error.message)
            error = self._note_disk_full()
        elif self._full_logged:
            log.info("the usage database takes writes again")
            self._full_logged = False
        self._notices = notices
        # The derive reads the window's samples from SQLite: off the loop (the GUI thread).
        self._state = await run_blocking(self._derive, self.clock.now(), current, error)
        return self._state

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _persist(self, fn: Callable[..., object], *args: Any) -> None:
        """Run a store write on a worker; a full disk is remembered for this poll (the reading
        stays in memory, the next poll writes again), not raised."""
        try:
            await run_blocking(fn, *args)
        except DiskFull as exc:
            self._disk_full = exc

    def _note_disk_full(self) -> FetchError:
        if not self._full_logged:  # once per episode, not once per poll
            log.warning("usage database: %s; keeping the last reading, retrying each poll", self._disk_full)
            self._full_logged = True
        return FetchError(ErrorKind.DISK_FULL, DISK_FULL_MESSAGE)

    # --- internals -----------------------------------------------------------------------------

    async def _poll_api(self, now: datetime, report: CredentialsReport, manual: bool) -> FetchError | None:
        if not report.usable or report.credentials is None:
            decision = self.policy.decide(None, report.stamp, manual=manual)
            self.last_decision = decision
            problem = report.error()
            if decision.reason is not Wait.AUTH:
                assert problem is not None
                self.policy.record_failure(problem.kind, None, stamp=report.stamp)
                self.outcomes[problem.kind.value] += 1
                await self._persist(self.repo.record_outcome, now, problem)
            self._error = problem
            return problem
        creds = report.credentials
        self._token_key = creds.key
        decision = self.policy.decide(creds.key, report.stamp, manual=manual)
        self.last_decision = decision
        if not decision.go:
            if decision.reason is Wait.THROTTLE and decision.at is not None:
                wait = max(1, round((decision.at - now).total_seconds()))
                self._notices = (
                    *self._notices,
                    f"Fetched moments ago; showing that reading (another refresh is allowed in {wait} s).",
                )
            if decision.reason is Wait.COOLDOWN:
                self._error = FetchError(
                    ErrorKind.RATE_LIMITED,
                    "The usage endpoint is rate-limiting this login; showing the last reading.",
                    decision.at,
                )
            return self._error
        await self._ensure_version(now)
        self.policy.attempted()
        await self._persist(self.repo.set_last_attempt, now)
        result = await self.client.fetch(creds.access_token, now)
        self.last_result = result
        await self._persist(self.repo.record_outcome, now, result.error, result.http_status)
        if result.snapshot is not None:
            snap = result.snapshot
            await self._persist(self._store, snap, now)
            self.policy.record_success()
            self.outcomes["ok"] += 1
            self._api_snapshot = snap
            self._snapshot = snap
            self._last_api_ok = snap.fetched_at
            self._error = None
            for note in result.notes:
                log.info("usage response: %s", note)
            return None
        error = result.error or FetchError(ErrorKind.BAD_RESPONSE, "No usage data in the response.")
        self.policy.record_failure(error.kind, creds.key, retry_at=error.retry_at, stamp=report.stamp)
        self.outcomes[error.kind.value] += 1
        if error.kind is ErrorKind.RATE_LIMITED and error.retry_at is not None:
            await self._persist(self.repo.set_cooldown, creds.key, error.retry_at)
        self._error = error
        return error

    def _store(self, snap: UsageSnapshot, now: datetime) -> None:
        self.repo.save_snapshot(snap)
        self.repo.maybe_prune(now, self.retention_days)

    async def _ensure_version(self, now: datetime) -> None:
        if self._version_checked:
            return
        self._version_checked = True
        seen = self._snapshot.client_version if self._snapshot else None
        if self.local_sources:  # the Claude Code version seen in statusline captures counts too
            from trayapp.sources.statusline_capture import latest_client_version

            seen = newest(seen, await run_blocking(latest_client_version))
        version = await run_blocking(detect_version, now, seen=seen, probe=self._probe_version)
        self.client.version = version

    def _fresh_local(self, now: datetime) -> UsageSnapshot | None:
        best: UsageSnapshot | None = None
        for source in self.local_sources:
            try:
                snap = source(now)
            except Exception:  # a broken reader must not stop the API poller
                log.exception("local usage source failed")
                continue
            if snap is None or not snap.windows:
                continue
            age = now - snap.fetched_at
            if timedelta(0) <= age < self.interval and (best is None or snap.fetched_at > best.fetched_at):
                best = snap
        return best

    def _save_local(self, snap: UsageSnapshot) -> None:
        if self._local_saved is not None and snap.fetched_at <= self._local_saved:
            return
        self.repo.save_snapshot(snap)
        self._local_saved = snap.fetched_at

    def _complete_due(self, now: datetime) -> bool:
        return self._last_api_ok is None or now - self._last_api_ok >= COMPLETE_EVERY * self.interval

    def _merge(self, local: UsageSnapshot) -> UsageSnapshot:
        api = self._api_snapshot
        if api is None:
            return local
        have = {w.id for w in local.windows}
        extra_windows = tuple(w for w in api.windows if w.id not in have)
        return UsageSnapshot(
            fetched_at=local.fetched_at,
            source=local.source,
            windows=local.windows + extra_windows,
            extra_usage=local.extra_usage or api.extra_usage,
            client_version=local.client_version,
        )

    def _derive(
        self, now: datetime, snapshot: UsageSnapshot | None, error: FetchError | None
    ) -> AccountState:
        """Total: a stored reading that cannot be derived is logged and shown as no reading."""
        try:
            return self._derive_from(now, snapshot, error)
        except Exception as exc:
            # Logged and counted once (doctor shows it); the reading is not shown, and says why.
            self.health.failed(exc)
            problem = error or FetchError(
                ErrorKind.INTERNAL,
                "Claude Watch could not read its stored usage reading; showing none until the next "
                "poll. `claude-watch doctor` shows the details.",
            )
            return AccountState(None, error=problem, stale=True, account=self._account)

    def _derive_from(
        self, now: datetime, snapshot: UsageSnapshot | None, error: FetchError | None
    ) -> AccountState:
        samples: dict[str, list[Sample]] = {}
        if snapshot is not None:
            for w in snapshot.windows:
                since = w.starts_at or (snapshot.fetched_at - w.length)
                samples[w.id] = self.repo.samples(w.id, since)
        return derive_state(
            snapshot,
            samples,
            now,
            interval=self.interval,
            error=error,
            account=self._account,
            notices=self._notices,
        )


def create_engine(
    *,
    demo: object | None = None,
    clock: Clock | None = None,
    local_sources: Sequence[LocalSource] | None = None,
    probe_version: bool = True,
    settings: Any = None,
) -> UsageEngine:
    """Build the engine the app and CLI use, from settings and paths.

    ``demo`` is a :class:`trayapp.demo.DemoHandle`: its server, its fake credentials and a
    separate database (``claude-watch-demo.sqlite3``) so demo numbers never mix with real history.
    Blocking (opens the database): call at start-up or from a worker thread.
    """
    from trayapp import paths
    from trayapp import settings as st

    cfg = settings if settings is not None else st.load()
    interval = timedelta(minutes=int(cfg.get("poll.interval_minutes")))
    retention = int(cfg.get("history.retention_days"))
    if demo is not None:
        from trayapp.demo import DemoHandle

        assert isinstance(demo, DemoHandle)
        d = demo.claude_config_dir
        repo = UsageRepo.open(paths.database_file().with_name("claude-watch-demo.sqlite3"))
        interval = DEMO_INTERVAL
        return UsageEngine(
            repo,
            clock=clock,
            client=UsageClient(demo.base_url, source=Source.DEMO),
            interval=interval,
            retention_days=retention,
            credentials_loader=partial(load_credentials, config_dirs=[d], home=d, platform="demo"),
            probe_version=False,
            # Accelerated time: poll often so the tray visibly moves (a 5-hour window lasts minutes).
            min_interval=DEMO_INTERVAL,
        )
    if local_sources is None:  # default: Claude Code's statusline captures (claude-watch statusline)
        from trayapp.services.usage_accounts import capture_filter
        from trayapp.sources.statusline_capture import STALE_LIMIT, local_source
        from trayapp.store.accounts_repo import AccountsRepo

        # With several accounts, from the first poll on: only the default's own captures.
        accounts = AccountsRepo().load_or_last()
        belongs = capture_filter(accounts[0], accounts) if len(accounts) > 1 else None
        local_sources = [local_source(STALE_LIMIT, belongs=belongs)]
        standard = True
    else:
        standard = False
    engine = UsageEngine(
        UsageRepo.open(),
        clock=clock,
        interval=interval,
        retention_days=retention,
        local_sources=local_sources,
        probe_version=probe_version,
    )
    engine.use_endpoint = bool(cfg.get("poll.endpoint"))
    engine.standard_captures = standard
    return engine
