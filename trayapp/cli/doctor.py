"""``claude-watch doctor``: what Claude Watch finds and what is missing, each with a fix.

Checks: Claude Code credentials (where, expiry, scopes, plan), the Claude Code version used for
the User-Agent, app directories, settings warnings, the keyring backend, the notification
server (D-Bus ``org.freedesktop.Notifications`` on Linux), tray availability (probed in a child
process, only when a display exists), the last poll outcome and Claude Code sessions (registry
folder and live records, hooks in its settings, our receiver's port, the last hook event). Every
probe is guarded and time-limited, so doctor itself never hangs or crashes on a half-configured
desktop. Exit code 0 when nothing is broken (warnings allowed), 1 otherwise. Nothing secret is
printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trayapp.core.humanize import format_ago, format_duration

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
_MARK = {OK: "✓", WARN: "!", FAIL: "✗", INFO: "·"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("doctor", help="check credentials, services and files, with fixes")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from datetime import UTC

    from trayapp.runtime import submit

    now = datetime.now(UTC)
    probes = (
        check_credentials,
        check_claude_version,
        check_dirs,
        check_settings,
        check_keyring,
        check_notifications,
        check_tray,
        check_last_poll,
        check_background_loops,
        check_updates,
        check_sessions,
        check_schedule,
        check_containers,
    )
    # Probes are independent and some wait on subprocesses: run them side by side on the io lane.
    futures = [submit(_guarded, probe, now, lane="io") for probe in probes]
    checks = [c for f in futures for c in f.result()]
    if args.json:
        import json

        print(json.dumps([_as_dict(c) for c in checks], indent=2))
    else:
        from trayapp.cli.term import checklist

        rows = [(_MARK[c.status], c.status, c.name, c.detail, c.fix) for c in checks]
        print(checklist("Claude Watch doctor", rows))
    return 1 if any(c.status == FAIL for c in checks) else 0


def _as_dict(c: Check) -> dict[str, str]:
    return {"name": c.name, "status": c.status, "detail": c.detail, "fix": c.fix}


def _guarded(probe: Any, now: datetime) -> list[Check]:
    try:
        result = probe(now)
    except Exception as exc:  # a probe bug must not hide the other checks
        return [Check(probe.__name__.removeprefix("check_"), WARN, f"check failed: {type(exc).__name__}")]
    return result if isinstance(result, list) else [result]


def check_credentials(now: datetime) -> list[Check]:
    from trayapp.sources.credentials import REQUIRED_SCOPE, CredentialStatus, load_credentials

    report = load_credentials(now)
    creds = report.credentials
    if report.status in (CredentialStatus.MISSING, CredentialStatus.MCP_ONLY, CredentialStatus.CLEARED):
        where = ", ".join(report.checked)
        return [
            Check(
                "Credentials", FAIL, f"no usable Claude Code login (looked in {where})", report.message or ""
            )
        ]
    assert creds is not None
    who = ", ".join(x for x in (report.account.plan, report.account.email, report.account.organization) if x)
    checks = [Check("Credentials", OK, f"{creds.origin}" + (f" ({who})" if who else ""))]
    if creds.expires_at is not None:
        left = (creds.expires_at - now).total_seconds()
        if left > 0:
            checks.append(Check("Access token", OK, f"valid for {format_duration(left)} more"))
        else:
            checks.append(
                Check(
                    "Access token",
                    FAIL,
                    f"expired {format_ago(-left)}",
                    "Open Claude Code once to refresh the login.",
                )
            )
    if creds.scopes is not None:
        if REQUIRED_SCOPE in creds.scopes:
            checks.append(Check("Scopes", OK, ", ".join(creds.scopes)))
        else:
            checks.append(Check("Scopes", FAIL, f"missing {REQUIRED_SCOPE}", report.message or ""))
    if creds.login_expires_at is not None:
        left = (creds.login_expires_at - now).total_seconds()
        status = OK if left > 5 * 86400 else (WARN if left > 0 else FAIL)
        detail = f"expires in {format_duration(left)}" if left > 0 else "expired"
        checks.append(Check("Login", status, detail, "" if status == OK else "Run `/login` in Claude Code."))
    return checks


def check_claude_version(now: datetime) -> Check:
    import shutil

    from trayapp.sources.claude_version import FALLBACK_VERSION, detect_version, user_agent

    version = detect_version(now)
    if shutil.which("claude") is None:
        return Check(
            "Claude Code",
            WARN,
            f"`claude` not on PATH; requests say {user_agent(version)}",
            "Install Claude Code (https://docs.claude.com/claude-code) or put `claude` on PATH.",
        )
    detail = f"{version}; requests say {user_agent(version)}"
    return Check("Claude Code", OK if version != FALLBACK_VERSION else WARN, detail)


def check_dirs(now: datetime) -> list[Check]:
    from trayapp import paths

    checks = []
    for name, path in paths.app_dirs().all().items():
        probe = path
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        writable = os.access(probe, os.W_OK)
        state = "exists" if path.exists() else "will be created"
        checks.append(
            Check(
                f"{name.capitalize()} dir",
                OK if writable else FAIL,
                f"{path} ({state})",
                "" if writable else f"make {probe} writable or set CLAUDE_WATCH_HOME",
            )
        )
    return checks


def check_updates(now: datetime) -> Check:
    """The optional update check's last answer (state/update-check.json); it never downloads."""
    from trayapp import paths, settings, version
    from trayapp.services.update_check import doctor_line

    enabled = bool(settings.load().get("updates.check"))
    line = doctor_line(paths.state_dir(), enabled, version())
    status = WARN if " available " in line else INFO
    fix = "download it from the link when you choose to" if status == WARN else ""
    return Check("Updates", status, line, fix)


def check_settings(now: datetime) -> Check:
    from trayapp import settings as st

    cfg = st.load()
    if cfg.warnings:
        return Check(
            "Settings",
            WARN,
            "; ".join(cfg.warnings),
            "`claude-watch config list` shows valid keys and values",
        )
    state = "exists" if cfg.path.exists() else "defaults (no file yet)"
    return Check("Settings", OK, f"{cfg.path} ({state})")


def check_keyring(now: datetime) -> Check:
    from trayapp.platform.keyring_check import health

    return Check("Keyring", *health(5.0))  # locked (read without a prompt) is a warning, not ok


def check_notifications(now: datetime) -> Check:
    if sys.platform == "darwin":
        return Check("Notifications", INFO, "macOS Notification Center (needs the signed app bundle)")
    if sys.platform == "win32":
        return Check("Notifications", INFO, "Windows toast notifications")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(f"/run/user/{os.getuid()}/bus"):
        return Check(
            "Notifications",
            WARN,
            "no D-Bus session bus",
            "run inside a desktop session (or `dbus-run-session`); the tray's own messages are used instead",
        )
    import shutil
    import subprocess

    exe = shutil.which("dbus-send")
    if exe is None:
        return Check("Notifications", WARN, "cannot check (dbus-send missing)", "install dbus (`dbus-send`)")
    try:
        proc = subprocess.run(
            [
                exe, "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications",
            ],
            capture_output=True,
            timeout=5,
            check=False,
            text=True,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return Check("Notifications", WARN, "D-Bus did not answer", "check the desktop session")
    if "boolean true" in proc.stdout:
        return Check("Notifications", OK, "org.freedesktop.Notifications is running")
    activatable = subprocess.run(
        [
            exe, "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListActivatableNames",
        ],
        capture_output=True, timeout=5, check=False, text=True,
    ).stdout  # fmt: skip
    if "org.freedesktop.Notifications" in activatable:
        return Check("Notifications", OK, "org.freedesktop.Notifications starts on demand")
    return Check(
        "Notifications",
        WARN,
        "no notification server on the session bus",
        "install one (dunst, mako, or your desktop's); alerts fall back to the tray's own messages",
    )


def check_tray(now: datetime) -> Check:
    if sys.platform in ("darwin", "win32"):
        return Check("Tray", INFO, "the menu bar / notification area is always available")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return Check("Tray", WARN, "no display (DISPLAY/WAYLAND_DISPLAY unset)", "run from a desktop session")
    import subprocess

    code = (
        "from PySide6.QtWidgets import QApplication, QSystemTrayIcon\n"
        "app = QApplication([])\n"
        "print('tray:', QSystemTrayIcon.isSystemTrayAvailable())\n"
    )
    env = dict(os.environ)
    if env.get("QT_QPA_PLATFORM") == "offscreen":  # the offscreen platform never has a tray
        del env["QT_QPA_PLATFORM"]
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=15, check=False, env=env
        )
    except (OSError, subprocess.TimeoutExpired):
        return Check("Tray", WARN, "the Qt probe did not finish", "check the display server")
    if "tray: True" in proc.stdout:
        return Check("Tray", OK, "a system tray (StatusNotifier/XEmbed host) is available")
    if proc.returncode != 0:
        return Check("Tray", WARN, "Qt could not open the display", "check DISPLAY and the Qt xcb libraries")
    return Check(
        "Tray",
        WARN,
        "no system tray on this desktop",
        "GNOME needs the AppIndicator extension; the app still opens its window",
    )


def check_last_poll(now: datetime) -> list[Check]:
    from trayapp import paths

    db = paths.database_file()
    if not db.exists():
        return [
            Check("Last poll", INFO, "never (no database yet)", "run `claude-watch status` or start the app")
        ]
    from trayapp.store.usage_repo import UsageRepo

    repo = UsageRepo.open(db)
    try:
        outcome = repo.last_outcome()
        cooldowns = repo.cooldowns(now)
        snap = repo.latest_snapshot()
        skipped = repo.implausible_samples()
    finally:
        repo.close()
    checks = []
    if outcome is None:
        checks.append(Check("Last poll", INFO, "never"))
    else:
        ago = format_ago((now - outcome.at).total_seconds())
        if outcome.ok:
            checks.append(Check("Last poll", OK, f"{ago}, OK (HTTP {outcome.http_status or 200})"))
        else:
            assert outcome.error is not None
            checks.append(
                Check("Last poll", WARN, f"{ago}, failed ({outcome.error.kind}): {outcome.error.message}")
            )
    if cooldowns:
        until = max(cooldowns.values())
        checks.append(
            Check(
                "Rate limit",
                WARN,
                f"cooling down for {format_duration(until - now)} more (Retry-After)",
            )
        )
    if skipped:
        checks.append(
            Check(
                "Stored readings",
                WARN,
                f"{skipped} stored window reading{'s' if skipped != 1 else ''} with an impossible reset time "
                "or percentage (written by an older version or a corrupt answer) are skipped",
                "nothing to do: they are ignored and pruned with the history",
            )
        )
    if snap is not None:
        checks.append(
            Check(
                "Last reading",
                INFO,
                f"{format_ago((now - snap.fetched_at).total_seconds())} from {snap.source}",
            )
        )
    return checks


def check_background_loops(now: datetime) -> list[Check]:
    """What the tray app's long-lived loops (poller, scanner, outbox) reported in loop-health.json."""
    from trayapp import paths
    from trayapp.runtime import HEALTH_FILE, read_health

    doc = read_health(paths.state_dir() / HEALTH_FILE)
    if doc is None:
        return [Check("Background work", INFO, "no report yet (the tray app writes one while it runs)")]
    checks = []
    for name, loop in sorted(doc["loops"].items()):
        if not isinstance(loop, dict) or not loop.get("failures"):
            continue
        failures, streak = int(loop.get("failures") or 0), int(loop.get("streak") or 0)
        when = loop.get("last_failed_at")
        ago = f", last {format_ago(now.timestamp() - float(when))}" if isinstance(when, int | float) else ""
        plural = "s" if failures != 1 else ""
        detail = f"{name}: {failures} unexpected error{plural}{ago}: {loop.get('last_error')}"
        if streak:
            detail += f" ({streak} in a row, backing off)"
        checks.append(
            Check(
                "Background work",
                WARN if streak else INFO,
                detail,
                "the app keeps retrying with a growing pause; the log has the traceback",
            )
        )
    return checks or [Check("Background work", OK, "no unexpected errors reported")]


def check_sessions(now: datetime) -> list[Check]:
    """Claude Code's session registry, the hooks in its settings, our receiver, the last event."""
    from trayapp import paths, settings
    from trayapp.services import hooks_install
    from trayapp.sources.session_registry import read_registry, registry_dirs
    from trayapp.store import claude_settings, local_endpoint, session_hooks

    checks = []
    live = len(read_registry(paths.claude_config_dirs()))
    for folder in registry_dirs(paths.claude_config_dirs()):
        state = (
            f"{live} live session{'s' if live != 1 else ''} in total" if folder.is_dir() else "not there yet"
        )
        checks.append(Check("Session registry", OK if folder.is_dir() else INFO, f"{folder}: {state}"))
    endpoint = local_endpoint.load()
    hooks = hooks_install.status(claude_settings.settings_path(None), endpoint, probe=False)
    fix = "run `claude-watch hooks --install`"
    if not hooks.installed:
        checks.append(Check("Hooks", INFO if hooks.code == 0 else WARN, hooks.message, fix))
    else:
        fresh = bool(hooks.details.get("up_to_date"))
        detail = f"{len(hooks.details.get('events', []))} events in {hooks.details.get('settings')}"
        checks.append(
            Check(
                "Hooks",
                OK if fresh else WARN,
                detail + ("" if fresh else ", out of date"),
                "" if fresh else fix,
            )
        )
    if not settings.load().get("hooks.receiver"):
        checks.append(Check("Hook receiver", INFO, "off (hooks.receiver)"))
    elif endpoint is None:
        checks.append(Check("Hook receiver", INFO, "no port yet (the tray app picks one at its first start)"))
    elif hooks_install.probe_health(endpoint.port):
        checks.append(Check("Hook receiver", OK, f"listening on 127.0.0.1:{endpoint.port}"))
    else:
        checks.append(
            Check(
                "Hook receiver", WARN, f"nothing answers on 127.0.0.1:{endpoint.port}", "start the tray app"
            )
        )
    from trayapp.cli.telemetry import doctor_check  # Claude Code's OpenTelemetry (issue 18)

    checks.append(doctor_check(endpoint))
    saved = session_hooks.load()
    last = saved.last_event if saved is not None else None
    if saved is None or last is None:
        checks.append(Check("Last hook event", INFO, "none seen yet"))
    else:
        ago = format_ago((now - last.received_at).total_seconds())
        detail = (
            f"{last.event} {ago} (session {last.session_id[:8]}; {saved.events_seen} since the app started)"
        )
        checks.append(Check("Last hook event", INFO, detail))
    return checks


def check_schedule(now: datetime) -> list[Check]:
    from trayapp.cli.doctor_schedule import checks  # the window scheduler (issue 15)

    return checks(now)


def check_containers(now: datetime) -> list[Check]:
    from trayapp.cli.doctor_containers import checks  # agents in containers (issue 14)

    return checks(now)
