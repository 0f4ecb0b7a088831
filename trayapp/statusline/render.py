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


# Deleted from every printed field: C0 and C1 controls (ESC, and U+009B, which some terminals
# take as a CSI and so as the start of an escape sequence), DEL, the line and paragraph
# separators, and the bidirectional marks, embeddings, overrides and isolates, which can make a
# project or model name display as something else (U+202E turns the rest of the row around).
_UNSAFE = dict.fromkeys(
    [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029]
    + [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def clean(value: object, limit: int = 60) -> str:
    """Text safe for one status-bar row: no control or bidi characters (see ``_UNSAFE``), bounded."""
    return str(value)[: limit * 2].translate(_UNSAFE)[:limit].strip()


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
    parts: list[tuple[str, str]] = []
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
            parts.append((seg, part))
    if not parts:
        return clean(cap.get("model_name") or "") or FALLBACK
    if width > 0:
        while len(parts) > 1 and visible_len(SEPARATOR.join(text for _, text in parts)) > width:
            parts.remove(max(parts, key=lambda item: _DROP_FIRST.get(item[0], 0)))
    texts = [text for _, text in parts]
    return p.paint("2", SEPARATOR).join(texts) if colour else SEPARATOR.join(texts)


# Which segment goes first when the row is too narrow (highest first): the limit figures are
# what the status line is for, so they are the last to go, the 5-hour one last of all.
_DROP_FIRST = {"today_cost": 6, "session_cost": 5, "context": 4, "model": 3, "seven_day": 2, "five_hour": 1}


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
