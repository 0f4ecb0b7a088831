"""Status-bar lines from the ``status --json`` document: waybar, polybar, i3blocks, compact JSON and text.

The document comes from the running app's local API (``GET /v1/status``, ``/v1/events``) or is
derived from the stored reading, so it is parsed like any untrusted input: a size-capped list of
windows, every field checked on its own, a bad window dropped, a document that is not an object
refused with :class:`BadDocument`. :class:`Reading` is the checked value; its :meth:`Reading.key`
leaves out what moves on its own (the age, countdowns), so ``--watch`` prints one line per real
change. Text that reaches a bar is cleaned of control characters (``statusline.render.clean``),
of polybar's ``%{`` tags (a label could otherwise add a click action that runs a command) and is
markup-escaped for waybar, which reads pango markup.

Words come from ``core.humanize``. Colours (polybar, i3blocks) come from ``core.palette``'s dark
palette (plain data, no Qt: the ``ui`` package would start Qt, and this command must start in a
few tens of milliseconds). Importing this module costs about a millisecond: no dataclasses, no
typing at run time; the palette is imported only by the formats that colour.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from trayapp.core.humanize import format_age, format_clock, format_countdown, format_money, format_percent
from trayapp.statusline.render import clean

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("waybar", "polybar", "i3blocks", "json", "text")
# core.models.Level's values (a test keeps them equal; importing the models costs ~17 ms).
LEVELS = ("ok", "warning", "critical", "at_limit", "stale", "error")
MAX_WINDOWS = 32
SEPARATOR = " · "
SHORT_NAMES = {"five_hour": "5h", "seven_day": "wk"}


class BadDocument(ValueError):
    """The status document is not an object with the documented shape."""


class BarWindow:
    """One usage window as the bars need it (checked values only)."""

    __slots__ = ("id", "label", "kind", "utilization", "resets_at", "level", "burn", "projected", "full_at")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.id = _text(raw.get("id"), 100)
        self.label = _text(raw.get("label"), 60) or self.id
        self.kind = _text(raw.get("kind"), 20)
        util = _number(raw.get("utilization"))
        if not self.id or util is None or not 0 <= util <= 1000:
            raise BadDocument("window without an id or a utilization")
        self.utilization = util
        self.resets_at = _when(raw.get("resets_at"))
        level = raw.get("level")
        self.level = level if level in LEVELS else "ok"
        self.burn = _number(raw.get("burn_rate_per_hour"))
        self.projected = _number(raw.get("projected_at_reset"))
        self.full_at = _when(raw.get("projected_full_at"))

    def key(self) -> tuple[object, ...]:
        return (self.id, self.label, self.utilization, self.resets_at, self.level, self.burn, self.projected)

    def short(self) -> str:
        if self.id in SHORT_NAMES:
            return SHORT_NAMES[self.id]
        return "wk " + self.label.rpartition(" · ")[2] if self.kind == "weekly_scoped" else self.label


class Reading:
    """A checked status document: windows, the binding one, staleness, the error if any."""

    __slots__ = ("windows", "binding", "stale", "age", "plan", "error", "extra")

    def __init__(self, doc: object) -> None:
        if not isinstance(doc, dict):
            raise BadDocument("the status document is not a JSON object")
        raw_windows = doc.get("windows")
        windows: list[BarWindow] = []
        for raw in raw_windows[:MAX_WINDOWS] if isinstance(raw_windows, list) else ():
            try:
                windows.append(BarWindow(raw if isinstance(raw, dict) else {}))
            except BadDocument:
                continue  # one bad window does not hide the others
        self.windows = tuple(windows)
        wanted = doc.get("binding")
        self.binding = next((w for w in windows if w.id == wanted), None) or (
            max(windows, key=lambda w: w.utilization) if windows else None
        )
        self.stale = doc.get("stale") is True
        self.age = _number(doc.get("age_seconds"))
        self.plan = _text(doc.get("plan"), 40)
        error = doc.get("error")
        self.error = _text(error.get("message"), 200) if isinstance(error, dict) else ""
        extra = doc.get("extra_usage")
        self.extra = _extra_text(extra) if isinstance(extra, dict) else ""

    def key(self) -> tuple[object, ...]:
        """What a bar shows, without the parts that move by themselves (age, countdowns)."""
        binding = self.binding.id if self.binding else None
        return (tuple(w.key() for w in self.windows), binding, self.stale, self.plan, self.error, self.extra)

    @property
    def level(self) -> str:
        if self.binding is None:
            return "error" if self.error else "stale"
        return self.binding.level

    @property
    def percentage(self) -> int:
        return max(0, min(100, round(self.binding.utilization))) if self.binding else 0


def _text(value: object, limit: int) -> str:
    return clean(value, limit).replace("%{", "%(") if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and abs(value) < 1e12 else None  # NaN and inf refused


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _extra_text(extra: dict[str, Any]) -> str:
    used, limit = _number(extra.get("used")), _number(extra.get("monthly_limit"))
    if extra.get("is_enabled") is not True or used is None:
        return ""
    currency = _text(extra.get("currency"), 5) or "USD"
    spent = format_money(used, currency)
    return f"{spent} of {format_money(limit, currency)} this month" if limit is not None else f"{spent} used"


# ----- the words ------------------------------------------------------------------------------


def bar_text(reading: Reading) -> str:
    """``5h 42% · wk 18%`` (plus a scoped weekly limit when it binds, and ``stale``)."""
    shown = [w for w in reading.windows if w.id in SHORT_NAMES]
    if reading.binding is not None and reading.binding not in shown:
        shown.append(reading.binding)
    if not shown:
        shown = list(reading.windows[:2])
    parts = [f"{w.short()} {w.utilization:.0f}%" for w in shown]
    if not parts:
        parts = ["Claude —"]
    if reading.stale:
        parts.append("stale")
    return SEPARATOR.join(parts)


def short_text(reading: Reading) -> str:
    """The binding window alone (i3blocks' ``short_text`` for a narrow bar)."""
    w = reading.binding
    text = f"{w.short()} {w.utilization:.0f}%" if w else "Claude —"
    return text + (" !" if reading.stale else "")


def pace(w: BarWindow, now: datetime) -> str:
    if w.utilization >= 100:
        return "limit reached"
    if w.full_at is not None and w.resets_at is not None and w.full_at < w.resets_at:
        return f"at this pace 100% at {format_clock(w.full_at, now)}, before the reset"
    if w.projected is not None and w.burn:
        return f"on track: about {min(w.projected, 100):.0f}% at reset"
    return ""


def tooltip(reading: Reading, now: datetime) -> str:
    """Every window with its reset and pace, then extra usage, the reading's age and any problem."""
    lines = ["Claude Watch" + (f" · {reading.plan}" if reading.plan else "")]
    if not reading.windows:
        lines.append("No usage reading yet.")
    for w in reading.windows:
        line = f"{w.label}: {format_percent(w.utilization)}"
        if w.resets_at is not None:
            left = w.resets_at - now
            when = "reset due now" if left.total_seconds() <= 0 else f"resets in {format_countdown(left)}"
            line += f", {when} · {format_clock(w.resets_at, now)}"
        words = pace(w, now)
        lines.append(line + (f"\n  {words}" if words else ""))
    if reading.extra:
        lines.append(f"Extra usage: {reading.extra}")
    if reading.age is not None:
        lines.append(format_age(reading.age).capitalize() + (" (stale)" if reading.stale else ""))
    if reading.error:
        lines.append(f"Problem: {reading.error}")
    return "\n".join(lines)


# ----- the formats ----------------------------------------------------------------------------


def _markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def waybar(reading: Reading, now: datetime) -> str:
    """One JSON line for waybar's ``return-type: json`` (text and tooltip are pango markup)."""
    classes = [reading.level] + (["stale"] if reading.stale and reading.level != "stale" else [])
    value = {
        "text": _markup(bar_text(reading)),
        "tooltip": _markup(tooltip(reading, now)),
        "class": classes[0] if len(classes) == 1 else classes,
        "percentage": reading.percentage,
    }
    return json.dumps(value, ensure_ascii=False)


def _colour(reading: Reading, palette: dict[str, str] | None) -> str | None:
    return (palette or {}).get("stale" if reading.stale else reading.level)


def polybar(reading: Reading, now: datetime, palette: dict[str, str] | None = None) -> str:
    """The bar text, in the level's colour when the palette has one (``%{F#rrggbb}...%{F-}``)."""
    text = bar_text(reading)
    colour = _colour(reading, palette)
    return f"%{{F{colour}}}{text}%{{F-}}" if colour else text


def i3blocks(
    reading: Reading, now: datetime, palette: dict[str, str] | None = None, *, persist: bool = False
) -> str:
    """``full_text``, ``short_text`` and ``color`` lines; one JSON object with ``persist``
    (i3blocks' ``interval=persist`` with ``format=json`` reads one object per line)."""
    colour = _colour(reading, palette)
    if persist:
        value = {"full_text": bar_text(reading), "short_text": short_text(reading)}
        if colour:
            value["color"] = colour
        return json.dumps(value, ensure_ascii=False)
    return "\n".join([bar_text(reading), short_text(reading), *([colour] if colour else [])])


def render(fmt: str, doc: dict[str, Any], now: datetime, *, watch: bool = False) -> str:
    """The output for one document in ``fmt`` (a value of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False) if watch else json.dumps(doc, indent=2)
    reading = Reading(doc)
    if fmt == "waybar":
        return waybar(reading, now)
    if fmt == "text":
        return bar_text(reading)
    palette = theme_palette()
    if fmt == "polybar":
        return polybar(reading, now, palette)
    return i3blocks(reading, now, palette, persist=watch)


def theme_palette() -> dict[str, str]:
    """The dark palette's level colours as ``{level value: "#rrggbb"}`` (``core.palette``, which
    needs no Qt; imported here, by polybar and i3blocks only, not by waybar's path)."""
    from trayapp.core.palette import DARK

    return {level.value: colour for level, colour in DARK.levels.items()}


def now_utc() -> datetime:
    return datetime.now(UTC)
