"""The window scheduler's files: the plan, the attempts log and the start guard.

* ``config/schedule.json``: the plan (:class:`~trayapp.core.schedule.Plan`), written whole
  (atomic, 0600). It is the user's configuration: read strictly; a file that cannot be read is
  reported in words and the last good plan is used (the one this store loaded or saved last, else
  ``schedule.json.good``, the copy every save leaves next to it), never an empty plan silently.
* ``state/schedule-attempts.jsonl``: every start attempt and reminder (one JSON line each,
  appended; trimmed to the newest :data:`KEEP_ATTEMPTS` lines when it passes :data:`MAX_LOG_BYTES`).
  Read tolerantly: a torn or foreign line is skipped.
* ``state/schedule-guard.json``: which (account, closed window) pairs were already tried and the
  last rate-limit status a run reported. :meth:`ScheduleStore.claim` checks and records a claim
  under a lock shared by every process (the app, ``window start`` and the OS timer), before the
  run: a restart, a crash mid-run or a second process never repeats an attempt.

Blocking file work: the app calls these on the io lane.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from trayapp.core.schedule import (
    DAY_NAMES,
    Anchor,
    AnchorMode,
    Attempt,
    Outcome,
    Plan,
    PlanError,
    parse_at,
    validate,
)
from trayapp.store.db import ProcessLock
from trayapp.store.files import UnsafeFileError, atomic_write, read_capped

log = logging.getLogger(__name__)

PLAN_FILE = "schedule.json"
ATTEMPTS_FILE = "schedule-attempts.jsonl"
GUARD_FILE = "schedule-guard.json"
MAX_PLAN_BYTES = 64 * 1024
MAX_LOG_BYTES = 512 * 1024
KEEP_ATTEMPTS = 500
MAX_GUARD_BYTES = 256 * 1024
MAX_FAILURES_A_DAY = 2
CLAIM_DAYS = 8  # claims older than this are forgotten (their windows are long gone)
# Outcomes that mean claude ran (or was meant to): they use up the window's one attempt.
RAN = frozenset({Outcome.VERIFIED, Outcome.NOT_OPENED, Outcome.FAILED})
FAILURES = frozenset({Outcome.NOT_OPENED, Outcome.FAILED})


class ScheduleFileError(ValueError):
    """``schedule.json`` cannot be used; the message says what is wrong and where."""


# --- the plan as JSON ---------------------------------------------------------------------------


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "version": 1,
        "enabled": plan.enabled,
        "preset": plan.preset,
        "os_timer": plan.os_timer,
        "paused_until": plan.paused_until.astimezone(UTC).isoformat() if plan.paused_until else None,
        "anchors": [
            {
                "at": a.id,
                "days": [DAY_NAMES[d].lower() for d in sorted(a.days)],
                "mode": a.mode.value,
                "in_quiet_hours": a.in_quiet_hours,
            }
            for a in sorted(plan.anchors, key=lambda a: a.id)
        ],
    }


def plan_from_json(data: Any) -> Plan:
    """Strict: every field checked on its own; unknown keys ignored; :class:`ScheduleFileError`."""
    if type(data) is not dict:
        raise ScheduleFileError("the file is not a JSON object")
    if data.get("version", 1) != 1:
        raise ScheduleFileError(f"version {data.get('version')!r} is newer than this Claude Watch")
    enabled, preset = data.get("enabled", True), data.get("preset", "custom")
    os_timer = data.get("os_timer", False)
    if type(enabled) is not bool or type(os_timer) is not bool or type(preset) is not str:
        raise ScheduleFileError("'enabled' and 'os_timer' must be true/false and 'preset' a name")
    paused = data.get("paused_until")
    paused_until: datetime | None = None
    if paused is not None:
        try:
            paused_until = datetime.fromisoformat(paused) if type(paused) is str else None
        except ValueError:
            paused_until = None
        if paused_until is None or paused_until.utcoffset() is None:
            raise ScheduleFileError(f"'paused_until' {paused!r} is not a time with a zone")
    raw = data.get("anchors", [])
    if type(raw) is not list:
        raise ScheduleFileError("'anchors' must be a list")
    anchors = tuple(_anchor(i, entry) for i, entry in enumerate(raw))
    try:
        return validate(Plan(anchors, preset, paused_until, enabled, os_timer))
    except PlanError as exc:
        raise ScheduleFileError(str(exc)) from None


def _anchor(index: int, entry: Any) -> Anchor:
    where = f"anchor {index + 1}"
    if type(entry) is not dict:
        raise ScheduleFileError(f"{where} is not an object")
    try:
        at = parse_at(entry["at"]) if type(entry.get("at")) is str else None
    except PlanError as exc:
        raise ScheduleFileError(f"{where}: {exc}") from None
    if at is None:
        raise ScheduleFileError(f"{where} has no 'at' time")
    names = entry.get("days", [d.lower() for d in DAY_NAMES])
    keys = [d.lower() for d in DAY_NAMES]
    if type(names) is not list or any(type(n) is not str or n not in keys for n in names):
        raise ScheduleFileError(f"{where}: 'days' must list weekdays (mon..sun)")
    try:
        mode = AnchorMode(entry.get("mode", "remind"))
    except ValueError:
        raise ScheduleFileError(f"{where}: 'mode' must be remind or auto") from None
    quiet = entry.get("in_quiet_hours", False)
    if type(quiet) is not bool:
        raise ScheduleFileError(f"{where}: 'in_quiet_hours' must be true/false")
    return Anchor(at, frozenset(keys.index(n) for n in names), mode, quiet)


# --- attempts as JSON lines ------------------------------------------------------------------------


def attempt_dict(attempt: Attempt) -> dict[str, Any]:
    """An attempt as a JSON object: the log's line, and the CLI's ``--json``."""
    return {
        "at": attempt.at.astimezone(UTC).isoformat(),
        "anchor": attempt.anchor_id,
        "outcome": attempt.outcome.value,
        "detail": attempt.detail,
        "account": attempt.account,
        "window": attempt.window_key,
        "extra": attempt.extra,
    }


def attempt_to_json(attempt: Attempt) -> str:
    return json.dumps(attempt_dict(attempt), separators=(",", ":"))


def attempt_from_json(line: str) -> Attempt | None:
    """One log line -> an Attempt; anything malformed -> None (skipped)."""
    try:
        d = json.loads(line)
        at = datetime.fromisoformat(d["at"])
        anchor, extra = d.get("anchor"), d.get("extra") or {}
        if (
            at.utcoffset() is None
            or (anchor is not None and type(anchor) is not str)
            or type(extra) is not dict
        ):
            return None
        return Attempt(
            at.astimezone(UTC),
            anchor,
            Outcome(d["outcome"]),
            str(d.get("detail", "")),
            str(d.get("account", "default")),
            str(d.get("window", "")),
            {str(k): str(v) for k, v in extra.items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True, slots=True)
class LastStatus:
    """The newest rate-limit status a run reported for an account."""

    status: str
    at: datetime
    resets_at: datetime | None = None

    def holds(self, now: datetime) -> bool:
        """Whether it still says something about ``now``: until its reset (else for 5 hours)."""
        return now < (self.resets_at or self.at + timedelta(hours=5))


@dataclass
class _Guard:
    claims: dict[str, str] = field(default_factory=dict)  # "account|window" -> ISO time
    statuses: dict[str, LastStatus] = field(default_factory=dict)


class ScheduleStore:
    """The plan file, the attempts log and the guard; one per process (any number may exist)."""

    def __init__(self, config_dir: Path | None = None, state_dir: Path | None = None) -> None:
        from trayapp import paths

        self.config_dir = config_dir or paths.config_dir()
        self.state_dir = state_dir or paths.state_dir()
        self.plan_path = self.config_dir / PLAN_FILE
        self.attempts_path = self.state_dir / ATTEMPTS_FILE
        self.guard_path = self.state_dir / GUARD_FILE
        self._last_good: Plan | None = None
        self.error: str | None = None  # why the plan file could not be used, for the UI and doctor

    # --- plan -----------------------------------------------------------------------------------

    def load_plan(self) -> Plan:
        """The plan on disk; no file: an empty plan; a bad file: the last good plan, with
        :attr:`error` saying what is wrong (None after a good read)."""
        try:
            plan = self._read_plan(self.plan_path)
        except FileNotFoundError:
            self.error = None
            return Plan()
        except (ScheduleFileError, OSError, UnicodeDecodeError) as exc:
            self.error = f"{self.plan_path} cannot be used ({_reason(exc)}); keeping the last good plan"
            log.warning("%s", self.error)
            return self._fallback()
        self.error = None
        self._last_good = plan
        return plan

    def save_plan(self, plan: Plan) -> Plan:
        """Validate and write the plan (and its good copy); :class:`PlanError` when it breaks the rules."""
        validate(plan)
        text = json.dumps(plan_to_json(plan), indent=2) + "\n"
        atomic_write(self.plan_path, text)
        atomic_write(self.plan_path.with_name(PLAN_FILE + ".good"), text)
        self._last_good = plan
        self.error = None
        return plan

    def _read_plan(self, path: Path) -> Plan:
        raw = read_capped(path, MAX_PLAN_BYTES)
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ScheduleFileError(f"not JSON: {exc}") from None
        return plan_from_json(data)

    def _fallback(self) -> Plan:
        if self._last_good is not None:
            return self._last_good
        try:
            self._last_good = self._read_plan(self.plan_path.with_name(PLAN_FILE + ".good"))
        except (ScheduleFileError, OSError, UnicodeDecodeError):
            return Plan()
        return self._last_good

    # --- attempts ---------------------------------------------------------------------------------

    def append(self, attempt: Attempt) -> None:
        """Add one attempt to the log (trimmed to the newest lines when it grows too big), under
        the guard's lock: a trim in one process never drops another's line."""
        line = attempt_to_json(attempt) + "\n"
        with self._lock():
            with open(self.attempts_path, "a", encoding="utf-8", opener=_private) as fh:
                fh.write(line)
                size = fh.tell()
            if size > MAX_LOG_BYTES:
                lines = self.attempts_path.read_bytes().splitlines(keepends=True)
                if len(lines) > KEEP_ATTEMPTS:
                    atomic_write(self.attempts_path, b"".join(lines[-KEEP_ATTEMPTS:]))

    def attempts(self, last: int = 10) -> list[Attempt]:
        """The newest ``last`` attempts, oldest first; unreadable lines skipped."""
        try:
            raw = read_capped(self.attempts_path, MAX_LOG_BYTES * 2)
        except FileNotFoundError:
            return []
        except (UnsafeFileError, OSError) as exc:
            log.warning("cannot read %s: %s", self.attempts_path, exc)
            return []
        out: list[Attempt] = []
        for line in reversed(raw.decode("utf-8", "replace").splitlines()):
            attempt = attempt_from_json(line)
            if attempt is not None:
                out.append(attempt)
                if len(out) >= last:
                    break
        out.reverse()
        return out

    # --- the guard --------------------------------------------------------------------------------

    def failures_on(self, day: date, account: str, tz: Any) -> int:
        """Failed starts (did not open, or claude failed) on the local ``day`` for ``account``."""
        return sum(
            1
            for a in self.attempts(KEEP_ATTEMPTS)
            if a.account == account and a.outcome in FAILURES and a.at.astimezone(tz).date() == day
        )

    def claim(self, account: str, window_key: str, now: datetime, tz: Any) -> str | None:
        """Reserve the one attempt for (``account``, ``window_key``). None: claimed, go ahead.
        Otherwise the reason it may not run (already tried, two failures today). Cross-process."""
        key = f"{account}|{window_key}"
        with self._lock():
            guard = self._read_guard()
            if key in guard.claims:
                return f"already tried for this closed window (at {guard.claims[key]})"
            failures = self.failures_on(now.astimezone(tz).date(), account, tz)
            if failures >= MAX_FAILURES_A_DAY:
                return f"{failures} failed starts today; trying again tomorrow"
            guard.claims[key] = now.astimezone(UTC).isoformat(timespec="seconds")
            cutoff = now - timedelta(days=CLAIM_DAYS)
            guard.claims = {k: v for k, v in guard.claims.items() if (_iso(v) or now) >= cutoff}
            self._write_guard(guard)
        return None

    def claimed(self, account: str, window_key: str) -> bool:
        return f"{account}|{window_key}" in self._read_guard().claims

    def last_status(self, account: str) -> LastStatus | None:
        return self._read_guard().statuses.get(account)

    def set_last_status(self, account: str, status: LastStatus) -> None:
        with self._lock():
            guard = self._read_guard()
            guard.statuses[account] = status
            self._write_guard(guard)

    def _lock(self) -> ProcessLock:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return ProcessLock(self.state_dir / (GUARD_FILE + ".lock"))

    def _read_guard(self) -> _Guard:
        """The guard file, with every run in the attempts log counted as a claim too: a guard file
        that is lost or broken must not open the door to repeats."""
        data: Any = {}
        try:
            data = json.loads(read_capped(self.guard_path, MAX_GUARD_BYTES))
        except FileNotFoundError:
            pass
        except (ValueError, OSError) as exc:
            log.warning("cannot read %s (%s); rebuilding it from the attempts log", self.guard_path, exc)
        guard = _Guard()
        claims = data.get("claims") if type(data) is dict else None
        if type(claims) is dict:
            guard.claims = {str(k): str(v) for k, v in claims.items()}
        for attempt in self.attempts(KEEP_ATTEMPTS):
            if attempt.outcome in RAN:
                guard.claims.setdefault(f"{attempt.account}|{attempt.window_key}", attempt.at.isoformat())
        statuses = data.get("statuses") if type(data) is dict else None
        for account, entry in (statuses or {}).items() if type(statuses) is dict else ():
            status = _status(entry)
            if status is not None:
                guard.statuses[str(account)] = status
        return guard

    def _write_guard(self, guard: _Guard) -> None:
        statuses = {
            k: {
                "status": s.status,
                "at": s.at.isoformat(),
                "resets_at": s.resets_at.isoformat() if s.resets_at else None,
            }
            for k, s in guard.statuses.items()
        }
        atomic_write(self.guard_path, json.dumps({"claims": guard.claims, "statuses": statuses}, indent=1))


def _status(entry: Any) -> LastStatus | None:
    if type(entry) is not dict or type(entry.get("status")) is not str:
        return None
    at = _iso(entry.get("at"))
    if at is None:
        return None
    return LastStatus(entry["status"], at, _iso(entry.get("resets_at")))


def _iso(value: Any) -> datetime | None:
    if type(value) is not str:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.utcoffset() is not None else None


def _private(path: str, flags: int) -> int:
    import os

    return os.open(path, flags, 0o600)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc) or type(exc).__name__
