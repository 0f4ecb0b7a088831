"""``claude-watch achievements [--json]``: every achievement, earned (with its date) or how far along.

Read-only and local: computed from the app's own history (the usage database, the ledger, the
scheduler's attempts) by the same rules the tray app runs; it announces nothing and stores nothing.
Achievements are opt-in in the app (``achievements.enabled``); this command shows them either way and
says when they are off. Exit status 0.

JSON (``--json``): ``{"schema_version": 1, "enabled": bool, "account": "default", "earned": int,
"achievements": [{"id", "name", "description", "earned_at": ISO|null, "progress": 0..1, "note"}]}``.
"""

from __future__ import annotations

import argparse

SCHEMA_VERSION = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "achievements",
        help="achievements for good pacing: earned ones and progress (local, read-only)",
        description="Achievements computed from your own history; nothing is sent anywhere.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from trayapp import settings as st
    from trayapp.core import achievements as ach
    from trayapp.services.achievements_service import load_history

    cfg = st.load()
    history = load_history(datetime.now(UTC), cfg.get)
    standings = ach.evaluate(history)
    enabled = bool(cfg.get("achievements.enabled"))
    earned = sum(1 for s in standings if s.earned)
    if args.json:
        out = {
            "schema_version": SCHEMA_VERSION,
            "enabled": enabled,
            "account": "default",
            "earned": earned,
            "achievements": [
                {
                    "id": s.rule_id,
                    "name": ach.BY_ID[s.rule_id].name,
                    "description": ach.BY_ID[s.rule_id].description,
                    "earned_at": s.earned_at.isoformat() if s.earned_at else None,
                    "progress": round(s.progress, 3),
                    "note": s.note,
                }
                for s in standings
            ],
        }
        print(json.dumps(out, indent=2), flush=True)
        return 0
    lines = [f"Achievements: {earned} of {len(standings)} earned"]
    if not enabled:
        lines.append(
            "(off in the app: `claude-watch config set achievements.enabled true` to be told of new ones)"
        )
    width = max(len(r.name) for r in ach.RULES)
    for s in standings:
        rule = ach.BY_ID[s.rule_id]
        if s.earned_at is not None:
            state = f"earned {s.earned_at.astimezone(history.tz):%d %b %Y}"
        else:
            state = f"{s.progress:4.0%}" + (f"  {s.note}" if s.note else "")
        mark = "*" if s.earned else " "
        lines.append(f"{mark} {rule.name:<{width}}  {state}")
        lines.append(f"  {'':<{width}}  {rule.description}")
    print("\n".join(lines), flush=True)
    return 0
