"""``claude-watch sessions [--json] [--all]``: every Claude Code session on this machine, now.

The same merged list the popup shows (``core.session_merge.merge_sessions``): Claude Code's
session registry (live processes only), its background jobs (``claude agents --json`` or the
jobs folder), the status line captures (model, context fill, cost) and, while the tray app runs,
the hook tracks it saved in ``state/session-hooks.json`` (so "needs you" shows here too; the
file of an app that is no longer running is ignored: its states may be stale). ``--all`` adds
ended sessions and finished jobs. The JSON document carries ``schema_version``. Exit code 0.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trayapp.core.sessions import Session
    from trayapp.store.session_hooks import HookState

SCHEMA_VERSION = 1
STATE_WORDS = {
    "needs_you": "Needs you",
    "working": "Working",
    "idle": "Idle",
    "done": "Done",
    "failed": "Failed",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sessions",
        help="list the Claude Code sessions on this machine",
        description="List every live Claude Code session (registry, background jobs, status line "
        "captures and, while the tray app runs, its hook events), sessions that need you first.",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument(
        "--all", dest="include_done", action="store_true", help="include ended sessions and finished jobs"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC

    now = datetime.now(UTC)
    sessions, hooks = collect(now, include_done=bool(args.include_done))
    text = json.dumps(to_json(sessions, hooks, now), indent=2) if args.json else render(sessions, hooks, now)
    print(text, flush=True)  # a closed pipe ends quietly in trayapp.__main__.main
    return 0


def app_hooks(path: Path | None = None) -> HookState | None:
    """The running app's saved hook state (None when absent, unreadable or its app has exited)."""
    from trayapp.sources.session_registry import pid_alive
    from trayapp.store import session_hooks

    state = session_hooks.load(path)
    if state is None or state.pid is None or not pid_alive(state.pid, None, None):
        return None
    return state


def collect(
    now: datetime,
    *,
    include_done: bool = False,
    config_dirs: Sequence[Path] | None = None,
    hooks_path: Path | None = None,
) -> tuple[list[Session], HookState | None]:
    """Read every source (blocking: files and maybe ``claude agents``) and merge."""
    from trayapp import paths
    from trayapp.core.session_merge import CAPTURE_TTL, merge_sessions
    from trayapp.sources.claude_jobs import read_jobs
    from trayapp.sources.session_registry import read_registry
    from trayapp.sources.statusline_capture import live_sessions

    dirs = list(config_dirs) if config_dirs is not None else paths.claude_config_dirs()
    hooks = app_hooks(hooks_path)
    sessions = merge_sessions(
        registry=read_registry(dirs),
        jobs=read_jobs(dirs, include_done=include_done),
        tracks={t.session_id: t for t in hooks.tracks} if hooks is not None else {},
        captures=live_sessions(now, CAPTURE_TTL),
        now=now,
        include_done=include_done,
    )
    return sessions, hooks


def session_json(s: Session) -> dict[str, Any]:
    from trayapp.services.api_docs import session_json as one

    return one(s)


def to_json(sessions: Sequence[Session], hooks: HookState | None, now: datetime) -> dict[str, Any]:
    """The ``--json`` document (the local API's ``/v1/sessions`` serves the same one)."""
    from trayapp.services.api_docs import sessions_json

    return sessions_json(sessions, hooks, now)


def row(s: Session, now: datetime) -> list[str]:
    from trayapp.core.humanize import format_duration, format_money, format_percent, short_model_name

    since = s.state_since or s.started_at
    project = s.project if not s.name or s.name == s.project else f"{s.project} ({s.name})"
    return [
        STATE_WORDS.get(s.state.value, s.state.value),
        project,
        format_duration(now - since) if since is not None else "—",
        short_model_name(s.model) if s.model else "—",
        format_percent(s.context_percent),
        format_money(s.cost_usd) if s.cost_usd is not None else "—",
    ]


def render(sessions: Sequence[Session], hooks: HookState | None, now: datetime) -> str:
    """A table, needs-you first, with the reason under each session that waits."""
    if not sessions:
        tip = "" if hooks is not None else " (run `claude-watch hooks --install` for live states)"
        from trayapp.cli.term import terminal_width, wrap

        return wrap("No Claude Code sessions running." + tip, terminal_width())
    from trayapp.cli.term import HEADER, Painter, table, terminal_width

    header = ["STATE", "PROJECT", "FOR", "MODEL", "CONTEXT", "COST"]
    rows = [row(s, now) for s in sessions]
    paint = Painter()
    levels = {"Needs you": "warning", "Working": "ok", "Failed": "at_limit"}

    def style(n: int, column: int, text: str) -> str:
        if n == HEADER:
            return paint.bold(text)
        return paint.level(text, levels[text]) if column == 0 and text in levels else text

    fitted = table(
        header,
        rows,
        right={4, 5},
        width=terminal_width(),
        squeeze=1,
        drop=("CONTEXT", "FOR", "COST", "MODEL"),
        style=style if paint.on else None,
    ).splitlines()
    out = fitted[:1]  # the header; no rule under it, as before
    for s, line in zip(sessions, fitted[2:], strict=True):
        out.append(line)
        if s.needs_you_reason:
            out.append(f"    ↳ {s.needs_you_reason}")
    if hooks is None:
        out.append(
            "(states from the registry and jobs only: the tray app is not running or has no hook events)"
        )
    return "\n".join(out)
