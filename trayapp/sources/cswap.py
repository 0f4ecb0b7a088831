"""claude-swap (``cswap``), read-only: its account slots, and a switch only when the user asks.

claude-swap keeps several Claude Code logins in slots and switches the live one under Claude
Code's own locks. Claude Watch never does that itself: it runs exactly ``cswap --list --json``
(no shell, bounded runtime, output capped) and accepts only ``schemaVersion`` 1::

    {"schemaVersion": 1, "activeAccountNumber": 2,
     "accounts": [{"number": 1, "email": "me@home", "active": false,
                   "usage": {"fiveHour": {"pct": 12, "resetsAt": "..."}, "sevenDay": {...}}}]}

Anything else raises :class:`CswapError` (the caller keeps its last good list). A switch runs
``cswap --switch-to N --json`` and only on an explicit request (``claude-watch accounts switch``).
Blocking (child processes): call from a worker thread or the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
TIMEOUT = 10.0  # seconds; cswap reads its own files and may ask the usage endpoint
MAX_OUTPUT = 1_000_000
MAX_SLOTS = 64


class CswapError(Exception):
    """cswap is missing, failed, timed out or said something this version cannot trust."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One claude-swap account slot (no token: cswap never hands one out here)."""

    number: int
    email: str | None
    active: bool
    five_hour: float | None
    seven_day: float | None


def executable() -> str | None:
    """``$CLAUDE_WATCH_CSWAP`` or ``cswap`` on PATH; None when there is none."""
    return os.environ.get("CLAUDE_WATCH_CSWAP") or shutil.which("cswap")


def _run(args: list[str], timeout: float) -> bytes:
    exe = executable()
    if exe is None:
        raise CswapError("claude-swap (cswap) is not installed")
    try:
        done = subprocess.run(
            [exe, *args], capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise CswapError(f"cswap {args[0]} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise CswapError(f"cswap could not start: {exc}") from None
    if done.returncode != 0:
        raise CswapError(f"cswap {args[0]} exited {done.returncode}")
    if len(done.stdout) > MAX_OUTPUT:
        raise CswapError("cswap printed more than this version reads")
    return done.stdout


def _pct(entry: Any) -> float | None:
    value = entry.get("pct") if isinstance(entry, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1000:
        return None
    return float(value)


def parse_list(raw: bytes) -> list[Slot]:
    """The slots of ``cswap --list --json`` output, or :class:`CswapError`."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise CswapError("cswap's list is not JSON") from None
    if not isinstance(data, dict) or data.get("schemaVersion") != SCHEMA_VERSION:
        raise CswapError(f"cswap's list is not schema version {SCHEMA_VERSION}; update Claude Watch or cswap")
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or len(accounts) > MAX_SLOTS:
        raise CswapError("cswap's list has no readable accounts")
    slots: list[Slot] = []
    for entry in accounts:
        if not isinstance(entry, dict):
            raise CswapError("cswap's list has an account that is not an object")
        number = entry.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 10_000:
            raise CswapError("cswap's list has an account without a slot number")
        email = entry.get("email")
        raw_usage = entry.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        slots.append(
            Slot(
                number,
                email if isinstance(email, str) and email and len(email) < 320 else None,
                entry.get("active") is True,
                _pct(usage.get("fiveHour")),
                _pct(usage.get("sevenDay")),
            )
        )
    return slots


def list_raw(timeout: float = TIMEOUT) -> bytes:
    """What ``cswap --list --json`` printed (parse it with :func:`parse_list`)."""
    return _run(["--list", "--json"], timeout)


def list_slots(timeout: float = TIMEOUT) -> list[Slot]:
    """``cswap --list --json``, parsed."""
    return parse_list(list_raw(timeout))


def switch_to(number: int, timeout: float = TIMEOUT) -> None:
    """``cswap --switch-to N --json``: only on the user's explicit request."""
    _run(["--switch-to", str(int(number)), "--json"], timeout)


def slot_for(slots: list[Slot], email: str | None) -> Slot | None:
    """The slot logged in as ``email`` (case-blind), if cswap has one."""
    if not email:
        return None
    return next((s for s in slots if s.email is not None and s.email.casefold() == email.casefold()), None)
