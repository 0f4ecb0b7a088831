"""``claude-watch telemetry --install | --uninstall | --status [--settings PATH] [--alongside] [--json]``.

Points Claude Code's OpenTelemetry at the tray app (``services/telemetry_install``): the exporter
variables go into the ``env`` block of Claude Code's user settings, with the hook token (ingest
only) as the OTLP header. ``--install`` creates the app's port and token if the app never ran,
and refuses (exit 3, with the reason) when telemetry already goes to another collector, unless
``--alongside`` can add ours for a signal that collector does not take. ``--status`` says whether
it is installed, whether another collector is configured, whether the app listens and when it
last received something. Exit status 2 when the settings file is not valid JSON (left untouched).
"""

from __future__ import annotations

import argparse
from typing import Any

from trayapp.cli import _installer


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "telemetry",
        help="send Claude Code's OpenTelemetry to the app: live tokens and cost (--install/--status)",
        description=(
            "Set Claude Code's OpenTelemetry exporter variables in its settings.json so every "
            "request's tokens and cost reach the app within a second or two. Prompt and tool "
            "details are never logged. Another collector's settings are left alone."
        ),
    )
    _installer.add_actions(p)
    p.add_argument(
        "--alongside",
        action="store_true",
        help="beside another collector: add Claude Watch for the signal (metrics or logs) it does not take",
    )
    _installer.add_json(p)
    p.set_defaults(func=run)


def last_received() -> str | None:
    """When the app last counted telemetry (from its store; None when it never did)."""
    from trayapp.store import telemetry_repo

    path = telemetry_repo.default_path()
    if not path.exists():
        return None
    try:
        repo = telemetry_repo.TelemetryRepo.open(path)
    except Exception:  # a locked or newer database: the status goes on without it
        return None
    try:
        when = repo.last_received_at()
    finally:
        repo.close()
    return when.astimezone().isoformat(timespec="seconds") if when else None


def run(args: argparse.Namespace) -> int:
    from trayapp.services import telemetry_install
    from trayapp.store import claude_settings, local_endpoint

    path = claude_settings.settings_path(args.settings)
    if args.action == "install":
        result = telemetry_install.install(path, local_endpoint.load_or_create(), alongside=args.alongside)
    elif args.action == "uninstall":
        result = telemetry_install.uninstall(path, local_endpoint.load())
    else:
        result = telemetry_install.status(path, local_endpoint.load(), last_received=last_received())
    return _installer.report(args, path, result)


def doctor_check(endpoint: Any) -> Any:
    """``doctor``'s telemetry line: installed, up to date, another collector, last received."""
    from trayapp.cli.doctor import INFO, OK, WARN, Check
    from trayapp.services import telemetry_install
    from trayapp.store import claude_settings

    status = telemetry_install.status(
        claude_settings.settings_path(None), endpoint, last_received=last_received(), probe=False
    )
    details = status.details
    when = details.get("last_received_at") or "nothing received yet"
    if status.code != 0:
        return Check("Telemetry", WARN, status.message)
    if not status.installed:
        other = details.get("other_collector")
        detail = f"not installed (another collector: {other})" if other else "not installed"
        return Check("Telemetry", INFO, detail, "run `claude-watch telemetry --install` for live costs")
    if not details.get("up_to_date"):
        return Check(
            "Telemetry", WARN, f"installed, out of date; {when}", "run `claude-watch telemetry --install`"
        )
    return Check(
        "Telemetry", OK, f"{' and '.join(details.get('signals', []))} to the app; last received: {when}"
    )
