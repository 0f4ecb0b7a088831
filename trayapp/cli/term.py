"""The terminal the command line prints to: its width, whether to colour, and tables that fit.

Colour follows the usual rules: only when stdout is a terminal, never when piped, never with
``NO_COLOR`` set (https://no-color.org) or ``TERM=dumb``, never after the global ``--no-color``
(:func:`disable_colour`, called by the entry point). The level colours are the tray icon's
(``core.palette.ICON``), written as 24-bit SGR when ``COLORTERM`` says the terminal takes it,
else as the nearest of xterm's 256 colours. The palette (and the models it imports) is loaded only
when colour is on: piped output and the warm report path never pay for it.

:func:`table` aligns columns and fits a width: it shortens one column, then leaves out others in
a given order. Styling is applied after alignment, so escape codes never count as width.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    Style = Callable[[int, int, str], str]

_state = {"off": False}
HEADER = -1  # the row index a table's style is called with for the header
RESET = "\x1b[0m"
_CUBE = (0, 95, 135, 175, 215, 255)  # xterm's 6x6x6 colour cube levels


def disable_colour() -> None:
    """The global ``--no-color``: nothing is coloured in this process from now on."""
    _state["off"] = True


def colour_enabled(stream: TextIO | None = None) -> bool:
    """Whether to colour what goes to ``stream`` (default stdout)."""
    if _state["off"] or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    target = sys.stdout if stream is None else stream
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def terminal_width(stream: TextIO | None = None) -> int:
    """The columns to fit: ``COLUMNS`` when set, the terminal's width when stdout is one, else 0
    (no limit: piped output keeps every column)."""
    try:
        columns = int(os.environ.get("COLUMNS") or 0)
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    target = sys.stdout if stream is None else stream
    try:
        return os.get_terminal_size(target.fileno()).columns if target.isatty() else 0
    except (OSError, ValueError, AttributeError):
        return 0


def nearest_256(rgb: tuple[int, int, int]) -> int:
    """The xterm-256 index closest to ``rgb``: the colour cube or the grey ramp, whichever is nearer."""

    def level(v: int) -> int:
        return 0 if v < 48 else 1 if v < 115 else (v - 35) // 40

    r, g, b = rgb
    qr, qg, qb = level(r), level(g), level(b)
    cube = (_CUBE[qr], _CUBE[qg], _CUBE[qb])
    grey_index = max(0, min(23, round(((r + g + b) / 3 - 8) / 10)))
    grey = (8 + 10 * grey_index,) * 3

    def distance(c: tuple[int, ...]) -> int:
        return sum((a - x) ** 2 for a, x in zip(c, rgb, strict=True))

    if distance(grey) < distance(cube):
        return 232 + grey_index
    return 16 + 36 * qr + 6 * qg + qb


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")[-6:]
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class Painter:
    """Colours for one stream; every method returns the text unchanged when colour is off.

    ``enabled`` and ``truecolor`` default to what the environment says (tests pass them)."""

    __slots__ = ("on", "truecolor", "_levels")

    def __init__(
        self, stream: TextIO | None = None, *, enabled: bool | None = None, truecolor: bool | None = None
    ) -> None:
        self.on = colour_enabled(stream) if enabled is None else enabled
        if truecolor is None:
            truecolor = os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit")
        self.truecolor = truecolor
        self._levels: dict[str, str] | None = None

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}{RESET}" if self.on and text else text

    def colour(self, text: str, colour: str) -> str:
        """``text`` in ``colour`` (``#rrggbb``)."""
        if not self.on:
            return text
        rgb = _rgb(colour)
        code = "38;2;{};{};{}".format(*rgb) if self.truecolor else f"38;5;{nearest_256(rgb)}"
        return self._sgr(code, text)

    def level(self, text: str, level: str) -> str:
        """``text`` in a level's colour (``ok``, ``warning``, ``critical``, ``at_limit``, ``stale``,
        ``error``: ``core.models.Level`` values), the tray icon's."""
        if not self.on:
            return text
        if self._levels is None:
            from trayapp.core.palette import ICON

            self._levels = {lv.value: c for lv, c in ICON.levels.items()}
        colour = self._levels.get(str(level))
        return self.colour(text, colour) if colour else text

    def bold(self, text: str) -> str:
        return self._sgr("1", text)

    def dim(self, text: str) -> str:
        return self._sgr("2", text)


def table(
    headers: list[str],
    rows: list[list[str]],
    right: set[int],
    *,
    width: int = 0,
    squeeze: int | None = None,
    drop: tuple[str, ...] = (),
    style: Style | None = None,
) -> str:
    """Aligned columns. With ``width``, a table wider than that first shortens column ``squeeze``
    (cut with "…", down to 12 characters), then leaves out the columns named in ``drop``, in that
    order, until it fits; the first column is never dropped. An empty row is a separator.

    ``style(row, column, text)`` may colour a cell's text after it was cut and before it is padded
    (``row`` is :data:`HEADER` for the header, else the index in ``rows``)."""
    keep = list(range(len(headers)))

    def widths_of(columns: list[int], cap: int | None) -> list[int]:
        out = []
        for i in columns:
            w = max([len(headers[i]), *(len(r[i]) for r in rows if r)])
            out.append(min(w, cap) if cap is not None and i == squeeze else w)
        return out

    def total(ws: list[int]) -> int:
        return sum(ws) + 2 * (len(ws) - 1)

    def fit() -> tuple[list[int], int | None]:
        natural = widths_of(keep, None)
        if width <= 0 or total(natural) <= width or squeeze not in keep:
            return natural, None
        cap = max(12, natural[keep.index(squeeze)] - (total(natural) - width))
        return widths_of(keep, cap), cap

    widths, _cap = fit()
    for name in drop if width > 0 else ():
        if total(widths) <= width:
            break
        if name in headers and headers.index(name) in keep:
            keep.remove(headers.index(name))
            widths, _cap = fit()

    def cell(row: int, i: int, text: str, w: int) -> str:
        if len(text) > w:
            text = text[: w - 1] + "…"
        pad = " " * (w - len(text))
        shown = style(row, i, text) if style is not None and text else text
        return pad + shown if i in right else shown + pad

    def line(row: int, cells: list[str]) -> str:
        return "  ".join(cell(row, i, cells[i], w) for i, w in zip(keep, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER, headers), sep, *(line(n, r) if r else sep for n, r in enumerate(rows))])


def wrap(text: str, width: int, indent: str = "") -> str:
    """``text`` wrapped at ``width`` (0: as it is), continuation lines indented by ``indent``;
    long words (paths, URLs) are never broken."""
    if width <= 0 or len(text) <= width:
        return text
    import textwrap

    return textwrap.fill(
        text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


# check status (``doctor``'s ok/warn/fail/info) -> the tray's level colour for its mark
_CHECK_LEVELS = {"ok": "ok", "warn": "warning", "fail": "at_limit", "info": "stale"}


def checklist(title: str, checks: list[tuple[str, str, str, str, str]]) -> str:
    """``doctor``'s report: one ``MARK NAME: DETAIL`` line per check (``(mark, status, name,
    detail, fix)``), wrapped to the terminal, the mark in its status's level colour, the fix below."""
    paint, width = Painter(), terminal_width()
    lines = [paint.bold(title)]
    for mark, status, name, detail, fix in checks:
        text = wrap(f"{mark} {name}: {detail}", width, "  ")
        lines.append(paint.level(mark, _CHECK_LEVELS.get(status, "stale")) + text[len(mark) :])
        if fix:
            lines.append(paint.dim(wrap(f"    fix: {fix}", width, "         ")))
    return "\n".join(lines)
