"""Reader of Claude Code's ``stats-cache.json`` (claude-data-formats.md §3), the only local record of days
whose transcripts Claude Code has already deleted.

Only ``dailyModelTokens`` is used: per UTC day and model, ``input + output`` tokens (no cache tokens,
no de-duplication), so these numbers are not comparable with transcript totals and are shown
separately, labelled, for days that have no transcript data. A missing file, an unknown schema
version or a malformed body makes the cache "unusable" (an empty result with a reason), never an
error.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (read on the warm report path)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

KNOWN_VERSIONS = range(1, 5)
FILENAME = "stats-cache.json"


class StatsCacheDays:
    """Per UTC day, per model: input+output tokens as Claude Code's /usage counted them.
    (A plain ``__slots__`` class: cheaper to define at start-up than a dataclass.)"""

    __slots__ = ("days", "last_computed", "sources", "problems")

    def __init__(
        self,
        days: dict[str, dict[str, int]] | None = None,
        last_computed: str | None = None,
        sources: tuple[str, ...] = (),
        problems: tuple[str, ...] = (),
    ) -> None:
        self.days: dict[str, dict[str, int]] = {} if days is None else days
        self.last_computed = last_computed
        self.sources = sources
        self.problems = problems

    def __repr__(self) -> str:
        return (
            f"StatsCacheDays(days={self.days!r}, last_computed={self.last_computed!r}, "
            f"sources={self.sources!r}, problems={self.problems!r})"
        )


def read_stats_cache(config_dirs: list[Path]) -> StatsCacheDays:
    """Merge the ``stats-cache.json`` of every Claude config dir (summing when two dirs share a day)."""
    days: dict[str, dict[str, int]] = {}
    last: str | None = None
    sources: list[str] = []
    problems: list[str] = []
    for directory in config_dirs:
        path = directory / FILENAME
        if not path.is_file():
            continue
        try:
            parsed = _parse(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        if isinstance(parsed, str):
            problems.append(f"{path}: {parsed}")
            continue
        file_days, file_last = parsed
        sources.append(str(path))
        if file_last and (last is None or file_last > last):
            last = file_last
        for day, models in file_days.items():
            target = days.setdefault(day, {})
            for model, tokens in models.items():
                target[model] = target.get(model, 0) + tokens
    return StatsCacheDays(days, last, tuple(sources), tuple(problems))


def _parse(data: Any) -> tuple[dict[str, dict[str, int]], str | None] | str:
    if not isinstance(data, dict):
        return "not a JSON object"
    version = data.get("version")
    if not isinstance(version, int) or version not in KNOWN_VERSIONS:
        return f"unknown stats-cache version {version!r}; ignored"
    last = data.get("lastComputedDate")
    last = last if isinstance(last, str) else None
    out: dict[str, dict[str, int]] = {}
    for item in data.get("dailyModelTokens") or []:
        if not isinstance(item, dict):
            continue
        day = item.get("date")
        models = item.get("tokensByModel")
        if not isinstance(day, str) or len(day) != 10 or not isinstance(models, dict):
            continue
        if last is not None and day > last:
            continue
        clean = {
            str(m): int(v)
            for m, v in models.items()
            if m != "<synthetic>" and isinstance(v, int | float) and not isinstance(v, bool) and v > 0
        }
        if clean:
            out[day] = clean
    return out, last


def fallback_days(cache: StatsCacheDays, days_with_transcripts: set[str]) -> dict[str, dict[str, int]]:
    """The stats-cache days that have no transcript entries at all (UTC dates on both sides)."""
    return {d: m for d, m in cache.days.items() if d not in days_with_transcripts}
