"""The guarded, verified start of a 5-hour window: the app's auto-start and "Start now", the
``window start`` command and the OS timer all come here.

A window opens with the first message after the last one expired, so the official client is run
once (``claude -p <word> --model haiku --no-session-persistence --output-format stream-json
--verbose``) in an empty scratch folder with the account's ``CLAUDE_CONFIG_DIR``. Claude Watch
itself never sends anything to Anthropic's API. Whether ``claude -p`` still counts against the
subscription window is not ours to know (Anthropic has announced and paused moving headless use to
a separate credit), so a start is **verified**: it succeeds only when the 5-hour ``resets_at`` is
about five hours after the start, read from the run's ``rate_limit_event`` or else from one usage
poll after a short wait. Otherwise: "did not open the window (headless use may be billed
separately)".

Guards, in order (a refusal runs nothing): a window is open (the freshest reading: the app's state,
else the stored reading and the status line capture, else one poll); the last rate-limit status a
run reported is not ``allowed`` (``allowed_warning`` is allowed; a status holds until its reset);
quiet hours, unless the anchor allows them (a start by hand is not held); one attempt per
(account, closed window) and two failures a day, claimed across processes before the run
(:meth:`~trayapp.store.schedule_store.ScheduleStore.claim`). With no reading at all the start
goes ahead (the claim allows one such start a day) and the run's own report decides. Every
attempt, refusals included, is logged with its outcome.

The child is a real process in its own process group (a new session on POSIX, a new process group
on Windows), watched from the event loop without holding a worker thread, its output written to a
file (capped) and parsed with :mod:`trayapp.core.stream_json`; on timeout the whole group is
terminated, then killed. Blocking file work runs on the io lane.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time as monotonic_time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from trayapp.core.alert_policy import in_quiet_hours, parse_quiet_hours
from trayapp.core.clock import Clock
from trayapp.core.models import AccountState, UsageSnapshot
from trayapp.core.schedule import WINDOW, AnchorMode, Attempt, Outcome, window_key, window_open
from trayapp.core.stream_json import ParseError, RateLimitEvent, ResultEvent, parse_lines
from trayapp.platform.process_group import kill_popen_group, popen_group_kwargs
from trayapp.runtime import run_blocking
from trayapp.store.schedule_store import LastStatus, ScheduleStore

log = logging.getLogger(__name__)

NOT_OPENED_TEXT = "did not open the window (headless use may be billed separately)"
FRESH = timedelta(minutes=10)  # a reading younger than this answers "is a window open?"
MAX_OUTPUT = 1024 * 1024  # bytes of the child's stdout read; more is a runaway, stopped
MAX_STDERR = 4096


@dataclass(frozen=True, slots=True)
class StartConfig:
    """How a start runs; tests shorten the times."""

    timeout: float = 120.0  # seconds for the whole run
    verify_wait: float = 20.0  # seconds before the one verification poll
    tolerance: timedelta = timedelta(minutes=10)  # resets_at within 5 h +- this is verified
    prompt: str = "hi"
    model: str = "haiku"
    term_grace: float = 3.0  # seconds between SIGTERM and SIGKILL of the group
    tick: float = 0.1  # how often the running child is looked at
    claude: str | None = None  # the executable; None: "claude" on PATH
    config_dir: Path | None = None  # the account's CLAUDE_CONFIG_DIR; None: as inherited
    work_dir: Path | None = None  # where scratch folders go; None: the cache folder
    verify: bool = True  # False: the stream alone decides (no verification poll)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the child


@dataclass(frozen=True, slots=True)
class RunResult:
    """How the child ended and what it printed (parsed)."""

    exit_code: int | None
    timed_out: bool = False
    missing: bool = False
    overflow: bool = False
    five_hour: RateLimitEvent | None = None
    last_status: RateLimitEvent | None = None
    result: ResultEvent | None = None
    bad_lines: int = 0
    stderr: str = ""


def current_reading(state: AccountState | None) -> UsageSnapshot | None:
    return state.snapshot if state is not None else None


def five_hour_reset(snapshot: UsageSnapshot | None) -> datetime | None:
    window = snapshot.window("five_hour") if snapshot is not None else None
    return window.resets_at if window is not None else None


def is_verified(resets_at: datetime | None, started: datetime, tolerance: timedelta) -> bool:
    """Whether ``resets_at`` is about five hours after ``started`` (a window this start opened)."""
    return resets_at is not None and abs(resets_at - (started + WINDOW)) <= tolerance


async def start_window(
    *,
    store: ScheduleStore,
    clock: Clock,
    tz: ZoneInfo,
    get_setting: Callable[[str], Any],
    state: Callable[[], AccountState | None],
    anchor_id: str | None = None,
    account: str = "default",
    poll: Callable[[], Awaitable[AccountState]] | None = None,
    config: StartConfig | None = None,
    from_timer: bool = False,
) -> Attempt:
    """Run the guarded, verified start once and log the attempt; never raises (but cancellation).

    Args:
        state: the freshest account state known (the app's; the CLI's stored reading).
        anchor_id: the anchor that fired (its quiet-hours permission applies); None: by hand.
        poll: one polite usage poll (the engine's or the service's), used when ``state`` has no
            fresh reading and to verify a start whose stream said nothing about the window.
        from_timer: the OS timer: the plan must still hold an enabled, unpaused auto anchor.
    """
    cfg = config or StartConfig()
    try:
        attempt = await _start(
            store, clock, tz, get_setting, state, anchor_id, account, poll, cfg, from_timer
        )
    except Exception as exc:  # a bug must not take the scheduler down: it is an outcome too
        log.exception("window start failed unexpectedly")
        attempt = Attempt(
            clock.now(), anchor_id, Outcome.FAILED, f"unexpected error ({type(exc).__name__})", account
        )
    try:
        await run_blocking(store.append, attempt)
    except OSError as exc:
        log.warning("cannot log the window start attempt: %s", exc)
    return attempt


async def _start(
    store: ScheduleStore,
    clock: Clock,
    tz: ZoneInfo,
    get_setting: Callable[[str], Any],
    state: Callable[[], AccountState | None],
    anchor_id: str | None,
    account: str,
    poll: Callable[[], Awaitable[AccountState]] | None,
    cfg: StartConfig,
    from_timer: bool,
) -> Attempt:
    now = clock.now()

    def refused(why: str, key: str = "") -> Attempt:
        return Attempt(now, anchor_id, Outcome.REFUSED, why, account, key)

    plan = await run_blocking(store.load_plan)
    anchor = next((a for a in plan.anchors if a.id == anchor_id), None)
    if from_timer:
        if anchor is None or anchor.mode is not AnchorMode.AUTO:
            return refused(f"no auto-start anchor at {anchor_id} in the plan any more")
        if not plan.enabled or (plan.paused_until is not None and plan.paused_until > now):
            return refused("the plan is paused")

    snapshot = current_reading(state())
    if (snapshot is None or now - snapshot.fetched_at > FRESH) and poll is not None:
        snapshot = current_reading(await poll()) or snapshot
    # A start verified since the reading was taken knows better than a reading that is not fresh.
    resets = newest_reset(five_hour_reset(snapshot), await run_blocking(store.attempts, 50), account)
    if window_open(resets, now):
        assert resets is not None
        return refused(f"a window is open until {resets.astimezone(tz):%H:%M}")

    last = await run_blocking(store.last_status, account)
    if last is not None and last.status not in ("allowed", "allowed_warning") and last.holds(now):
        return refused(f"the last rate-limit status was {last.status!r}")

    quiet = parse_quiet_hours(str(get_setting("alerts.quiet_hours") or ""))
    if anchor_id is not None and in_quiet_hours(now, quiet, tz) and not (anchor and anchor.in_quiet_hours):
        return refused("quiet hours (this anchor may not start a window in them)")

    key = window_key(resets) if resets is not None else f"none-{now.astimezone(tz):%Y-%m-%d}"
    why = await run_blocking(store.claim, account, key, now, tz)
    if why is not None:
        return refused(why, key)

    started = clock.now()
    run = await run_claude(cfg)
    if run.last_status is not None:
        ev = run.last_status
        await run_blocking(store.set_last_status, account, LastStatus(ev.status, clock.now(), ev.resets_at))
    failed = _failure(run, cfg)
    if failed is not None:
        return Attempt(started, anchor_id, Outcome.FAILED, failed, account, key)

    seen = run.five_hour.resets_at if run.five_hour is not None else None
    how = "from the run's rate-limit event"
    if not is_verified(seen, started, cfg.tolerance) and cfg.verify:
        await asyncio.sleep(cfg.verify_wait)
        after = current_reading(await poll()) if poll is not None else current_reading(state())
        polled = five_hour_reset(after) if after is not None and after.fetched_at >= started else None
        if polled is not None:
            seen, how = polled, "by a usage reading after the run"
    extra = {"resets_at": seen.isoformat()} if seen is not None else {}
    if is_verified(seen, started, cfg.tolerance):
        assert seen is not None
        detail = f"window opened: resets at {seen.astimezone(tz):%H:%M} ({how})"
        return Attempt(started, anchor_id, Outcome.VERIFIED, detail, account, key, extra)
    if seen is not None and started < seen < started + WINDOW:
        # The reading before the run was out of date: a window was open all along.
        detail = f"a window was already open (it resets at {seen.astimezone(tz):%H:%M}); nothing was started"
    elif seen is None:
        detail = f"{NOT_OPENED_TEXT}; no 5-hour reset was reported"
    else:
        detail = (
            f"{NOT_OPENED_TEXT}; the 5-hour reset is {seen.astimezone(tz):%a %H:%M}, not 5 h after the start"
        )
    return Attempt(started, anchor_id, Outcome.NOT_OPENED, detail, account, key, extra)


def newest_reset(resets: datetime | None, attempts: list[Attempt], account: str) -> datetime | None:
    """The newest 5-hour reset known: the reading's, or one a verified start reported since."""
    best = resets
    for attempt in attempts:
        raw = attempt.extra.get("resets_at") if attempt.account == account else None
        if raw and attempt.outcome is Outcome.VERIFIED:
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if when.utcoffset() is not None and (best is None or when > best):
                best = when
    return best


def _failure(run: RunResult, cfg: StartConfig) -> str | None:
    if run.missing:
        return "claude was not found (install Claude Code, or put it on PATH)"
    if run.timed_out:
        return f"claude did not finish within {cfg.timeout:g} s and was stopped"
    if run.overflow:
        return "claude printed more than expected and was stopped"
    if run.exit_code not in (0, None) and run.five_hour is None:
        tail = run.stderr.strip().splitlines()[-1:] or [""]
        return f"claude exited with status {run.exit_code}" + (f": {tail[0][:200]}" if tail[0] else "")
    return None


# --- the child process ---------------------------------------------------------------------------


async def run_claude(cfg: StartConfig) -> RunResult:
    """Run the one headless ping and read its stream; never raises for the child's faults."""
    exe = cfg.claude or find_claude()
    if exe is None:
        return RunResult(None, missing=True)
    argv = [exe, "-p", cfg.prompt, "--model", cfg.model, "--no-session-persistence"]
    argv += ["--output-format", "stream-json", "--verbose"]
    env = dict(os.environ)
    if cfg.config_dir is not None:
        env["CLAUDE_CONFIG_DIR"] = str(cfg.config_dir)
    env.update(cfg.env)
    base = cfg.work_dir or _default_work_dir()
    name = uuid.uuid4().hex[:12]
    scratch, out_path, err_path = base / f"run-{name}", base / f"run-{name}.out", base / f"run-{name}.err"
    try:
        proc = await run_blocking(_spawn, argv, scratch, out_path, err_path, env)
    except OSError as exc:
        await run_blocking(_cleanup, scratch, out_path, err_path)
        return RunResult(None, missing=True, stderr=str(exc))
    try:
        timed_out, overflow = await _supervise(proc, out_path, cfg)
        return await run_blocking(_collect, proc.returncode, timed_out, overflow, out_path, err_path)
    finally:
        _kill_group(proc, hard=True)  # leftovers of a finished run (its helpers) go too
        await run_blocking(_cleanup, scratch, out_path, err_path)


def find_claude() -> str | None:
    """``claude`` on PATH, else where its installers put it (a timer's PATH is often minimal)."""
    found = shutil.which("claude")
    if found is not None:
        return found
    home = Path.home()
    places = [home / ".local" / "bin" / "claude", home / ".claude" / "local" / "claude"]
    places += [
        home / ".npm-global" / "bin" / "claude",
        Path("/opt/homebrew/bin/claude"),
        Path("/usr/local/bin/claude"),
    ]
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA", "")
        places = [home / ".local" / "bin" / "claude.exe", Path(appdata) / "npm" / "claude.cmd"]
    for place in places:
        if place.is_file() and os.access(place, os.X_OK):
            return str(place)
    return None


def _default_work_dir() -> Path:
    from trayapp import paths

    return paths.cache_dir() / "window-start"


def _spawn(
    argv: list[str], scratch: Path, out_path: Path, err_path: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    scratch.mkdir(parents=True, mode=0o700)  # empty, outside any repository
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        return subprocess.Popen(
            argv,
            cwd=scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            **popen_group_kwargs(),
        )


async def _supervise(proc: subprocess.Popen[bytes], out_path: Path, cfg: StartConfig) -> tuple[bool, bool]:
    """Wait for the child without a thread; stop the group on timeout or runaway output."""
    deadline = monotonic_time.monotonic() + cfg.timeout
    try:
        while proc.poll() is None:
            if monotonic_time.monotonic() > deadline:
                await _stop(proc, cfg)
                return True, False
            if _size(out_path) > MAX_OUTPUT:
                await _stop(proc, cfg)
                return False, True
            await asyncio.sleep(cfg.tick)
    except asyncio.CancelledError:
        _kill_group(proc, hard=True)
        raise
    return False, False


async def _stop(proc: subprocess.Popen[bytes], cfg: StartConfig) -> None:
    _kill_group(proc, hard=False)
    end = monotonic_time.monotonic() + cfg.term_grace
    while proc.poll() is None and monotonic_time.monotonic() < end:
        await asyncio.sleep(cfg.tick)
    _kill_group(proc, hard=True)
    while proc.poll() is None:
        await asyncio.sleep(cfg.tick)


def _kill_group(proc: subprocess.Popen[bytes], hard: bool) -> None:
    """Signal the child's whole group: SIGTERM (``hard``: SIGKILL); Windows: ``taskkill /T``."""
    kill_popen_group(proc, hard)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _collect(code: int | None, timed_out: bool, overflow: bool, out_path: Path, err_path: Path) -> RunResult:
    with open(out_path, "rb") as fh:
        raw = fh.read(MAX_OUTPUT)
    with open(err_path, "rb") as fh:
        stderr = fh.read(MAX_STDERR).decode("utf-8", "replace")
    five: RateLimitEvent | None = None
    last: RateLimitEvent | None = None
    result: ResultEvent | None = None
    bad = 0
    for event in parse_lines(raw.splitlines()):
        if isinstance(event, RateLimitEvent):
            last = event
            if event.rate_limit_type == "five_hour":
                five = event
        elif isinstance(event, ResultEvent):
            result = event
        elif isinstance(event, ParseError):
            bad += 1
            if bad == 1:
                log.info("window start: skipped a bad stream-json line (%s)", event.reason)
    return RunResult(code, timed_out, False, overflow, five, last, result, bad, stderr)


def _cleanup(scratch: Path, out_path: Path, err_path: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
    for path in (out_path, err_path):
        try:
            path.unlink()
        except OSError:
            pass


def stored_reading(now: datetime, repo: Any) -> UsageSnapshot | None:
    """The freshest reading without polling: a status line capture (younger than 10 minutes) or the
    last stored reading (``repo`` a :class:`~trayapp.store.usage_repo.UsageRepo`), the newer."""
    from trayapp.sources.statusline_capture import STALE_LIMIT, fresh_snapshot

    best = fresh_snapshot(now, STALE_LIMIT)
    stored = repo.latest_snapshot()
    if stored is not None and (best is None or stored.fetched_at > best.fetched_at):
        best = stored
    return best
