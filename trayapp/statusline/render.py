"""Render the status line text from a capture: segments, colours, countdowns.

Segments (setting ``statusline.segments``): ``model``, ``five_hour`` (percent and reset
countdown), ``seven_day`` (percent), ``session_cost``, ``context`` (context-window fill) and
``today_cost``. Countdowns and money are the app's own wording in its compact style
(``core.humanize``: ``2h05m``, ``$123``). A segment without data is left out rather than shown
as a placeholder, and an empty line is never printed (Claude Code blanks its status bar on empty
output). Percentages
are coloured like the tray icon: green, yellow from 75 %, red from 90 %, bold red at 100 %;
``NO_COLOR`` (https://no-color.org) turns colours off.
"""

from __future__ import annotations

from trayapp.core.humanize import format_countdown, format_money

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STALE_AFTER = 600.0  # seconds: a capture older than 10 minutes no longer describes the account
FALLBACK = "Claude Watch"

# Same thresholds as trayapp.core.models.level_for (a test keeps them equal); importing the
# models module would pull in dataclasses, which costs this command ~10 ms.
_COLOURS = ((100.0, "1;31"), (90.0, "31"), (75.0, "33"), (0.0, "32"))
LEVEL_NAMES = {"1;31": "at_limit", "31": "critical", "33": "warning", "32": "ok"}
SEPARATOR = " · "


def colour_code(pct: float) -> str:
    for threshold, code in _COLOURS:
        if pct >= threshold:
            return code
    return "32"


def clean(value: object, limit: int = 60) -> str:
    """Text safe for one status-bar row: no control characters (newlines, escapes), bounded."""
    return "".join(c for c in str(value)[: limit * 2] if c >= " " and c != "\x7f")[:limit].strip()


class _Painter:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, code: str, value: str) -> str:
        return f"\x1b[{code}m{value}\x1b[0m" if self.colour else value

    def pct(self, pct: float) -> str:
        return self.paint(colour_code(pct), f"{pct:.0f}%")


def pick_rate_limits(
    capture: dict[str, Any] | None, latest: dict[str, Any] | None, now: float
) -> dict[str, dict[str, Any]]:
    """The session's own ``rate_limits`` if it has them, else the newest fresh ones on disk."""
    if capture and capture.get("rate_limits"):
        result: dict[str, dict[str, Any]] = capture["rate_limits"]
        return result
    if latest and isinstance(latest.get("rate_limits"), dict):
        at = latest.get("captured_at")
        if isinstance(at, int | float) and 0 <= now - at <= STALE_AFTER:
            return {k: v for k, v in latest["rate_limits"].items() if isinstance(v, dict)}
    return {}


def _window(p: _Painter, label: str, entry: dict[str, Any] | None, now: float, with_countdown: bool) -> str:
    if not entry:
        return ""
    pct = entry.get("used_percentage")
    if not isinstance(pct, int | float) or isinstance(pct, bool):
        return ""
    reset = entry.get("resets_at")
    if isinstance(reset, int | float) and reset <= now:
        return f"{label} {p.pct(0.0)}"  # the window has rolled over since this reading
    out = f"{label} {p.pct(float(pct))}"
    if with_countdown and isinstance(reset, int | float):
        out += " " + p.paint("2", format_countdown(reset - now, compact=True))
    return out


def render(
    capture: dict[str, Any] | None,
    segments: tuple[str, ...] | list[str],
    now: float,
    *,
    colour: bool,
    latest: dict[str, Any] | None = None,
    today: float | None = None,
    width: int = 0,
) -> str:
    """The status line for ``capture`` (None when stdin was unusable); never empty.

    With ``width`` (the terminal's columns), trailing segments are dropped until the visible
    text fits; the first segment always stays.
    """
    p = _Painter(colour)
    cap = capture or {}
    limits = pick_rate_limits(capture, latest, now)
    parts: list[str] = []
    for seg in segments:
        part = ""
        if seg == "model":
            name = clean(cap.get("model_name") or "")
            part = p.paint("1", name) if name else ""
        elif seg == "five_hour":
            part = _window(p, "5h", limits.get("five_hour"), now, True)
        elif seg == "seven_day":
            part = _window(p, "wk", limits.get("seven_day"), now, False)
        elif seg == "session_cost":
            cost = cap.get("cost_usd")
            part = format_money(cost, compact=True) if isinstance(cost, int | float) and cost >= 0 else ""
        elif seg == "context":
            ctx = cap.get("context") or {}
            pct = ctx.get("used_percentage") if isinstance(ctx, dict) else None
            part = f"ctx {p.pct(float(pct))}" if isinstance(pct, int | float) else ""
        elif seg == "today_cost" and today is not None:
            part = f"today {format_money(today, compact=True)}"
        if part:
            parts.append(part)
    if not parts:
        return clean(cap.get("model_name") or "") or FALLBACK
    if width > 0:
        while len(parts) > 1 and visible_len(SEPARATOR.join(parts)) > width:
            parts.pop()
    return p.paint("2", SEPARATOR).join(parts) if colour else SEPARATOR.join(parts)


def visible_len(text: str) -> int:
    """Length without ANSI colour sequences."""
    n, i = 0, 0
    while i < len(text):
        if text[i] == "\x1b":
            end = text.find("m", i)
            i = len(text) if end < 0 else end + 1
            continue
        n += 1
        i += 1
    return n
