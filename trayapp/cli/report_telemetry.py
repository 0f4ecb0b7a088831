"""``claude-watch report daily --source telemetry|both``: Claude Code's own telemetry per day and model,
alone or beside the transcripts' figures with the difference.

The telemetry figures come from the app's receiver store (``data/telemetry.sqlite3``, written by
the tray app or ``serve`` while ``claude-watch telemetry --install`` points Claude Code there);
the transcript figures from the ledger, scanned first as ``report`` always does. They differ for
known reasons (the README lists them): telemetry prices at list price while the ledger follows
``--cost-mode``; some requests (title generation, headless runs in other folders, background
tasks) never reach a transcript on this machine; telemetry only starts the day it was installed
and arrives in export intervals; a retried export is counted once, a lost one never.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, tzinfo
from typing import Any

from trayapp.core.telemetry import LABEL

_TOKEN_KEYS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def telemetry_daily(tz: tzinfo | None, since: date | None, until: date | None) -> dict[str, dict[str, Any]]:
    """``{day: {model: figures}}`` from the receiver's store ({} when it never received anything)."""
    from trayapp.store import telemetry_repo

    path = telemetry_repo.default_path()
    if not path.exists():
        return {}
    repo = telemetry_repo.TelemetryRepo.open(path)
    try:
        return repo.daily(tz, since, until)
    finally:
        repo.close()


def _total(figures: dict[str, Any]) -> int:
    return int(round(sum(float(figures.get(k, 0)) for k in _TOKEN_KEYS)))


def _transcripts(report: Any) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for day, tally in report.rows.items():
        for item in tally.row_json()["modelBreakdowns"]:
            out.setdefault(day, {})[item["modelName"]] = {**item, "costUSD": item["cost"]}
    return out


def documents(
    source: str, telemetry: dict[str, dict[str, Any]], transcripts: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The ``--json`` document: per day and model, telemetry (and transcripts, and the difference)."""
    rows: list[dict[str, Any]] = []
    for day in sorted(telemetry.keys() | (transcripts.keys() if source == "both" else set())):
        models = telemetry.get(day, {}).keys() | (
            transcripts.get(day, {}).keys() if source == "both" else set()
        )
        for model in sorted(models):
            tel = telemetry.get(day, {}).get(model)
            row: dict[str, Any] = {"date": day, "model": model}
            tel_doc: dict[str, Any] | None = None
            if tel is not None:
                tel_doc = {k: int(round(tel[k])) for k in _TOKEN_KEYS}
                tel_doc |= {"totalTokens": _total(tel), "costUSD": round(float(tel["costUSD"]), 6),
                            "requests": int(tel["requests"])}  # fmt: skip
            row["telemetry"] = tel_doc
            if source == "both":
                tr = transcripts.get(day, {}).get(model)
                tr_doc = (
                    None
                    if tr is None
                    else {"totalTokens": _total(tr), "costUSD": round(float(tr["cost"]), 6)}
                )
                row["transcripts"] = tr_doc
                row["difference"] = {
                    "totalTokens": (tel_doc or {}).get("totalTokens", 0)
                    - (tr_doc or {}).get("totalTokens", 0),
                    "costUSD": round(
                        (tel_doc or {}).get("costUSD", 0.0) - (tr_doc or {}).get("costUSD", 0.0), 6
                    ),
                }
            rows.append(row)
    return {"source": source, "label": LABEL, "daily": rows}


def table(doc: dict[str, Any]) -> str:
    both = doc["source"] == "both"
    head = ["Date", "Model", "Telemetry tokens", "Telemetry $"]
    if both:
        head += ["Transcript tokens", "Transcript $", "Δ tokens", "Δ $"]
    lines = [head]
    for row in doc["daily"]:
        tel, tr = row["telemetry"] or {}, row.get("transcripts") or {}
        cells = [
            row["date"],
            row["model"],
            f"{tel.get('totalTokens', 0):,}",
            f"{tel.get('costUSD', 0.0):.4f}",
        ]
        if both:
            diff = row["difference"]
            cells += [f"{tr.get('totalTokens', 0):,}", f"{tr.get('costUSD', 0.0):.4f}",
                      f"{diff['totalTokens']:+,}", f"{diff['costUSD']:+.4f}"]  # fmt: skip
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    note = f"{LABEL}; Δ = telemetry - transcripts" if both else LABEL
    if not doc["daily"]:
        return f"No telemetry received yet: run `claude-watch telemetry --install`.\n({note})"
    return "\n".join([*text, f"({note})"])


def run(args: argparse.Namespace) -> int:
    """``report daily --source telemetry|both`` (the ``report`` command hands over here)."""
    import json

    from trayapp.cli import _report_render as render

    if args.kind != "daily":
        print("error: --source telemetry|both works with the daily report only", file=sys.stderr)
        return 2
    try:
        since = render.parse_day(args.since, "--since")
        until = render.parse_day(args.until, "--until")
        tracker = render.make_tracker(args.timezone, args.cost_mode)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        transcripts: dict[str, dict[str, Any]] = {}
        if args.source == "both":
            if not args.no_scan:
                render.scan_with_progress(tracker)
            transcripts = _transcripts(tracker.daily(since, until))
        doc = documents(args.source, telemetry_daily(tracker.tz, since, until), transcripts)
    finally:
        tracker.repo.close()
    print(json.dumps(doc, indent=2) if args.json else table(doc))
    return 0
