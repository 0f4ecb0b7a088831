"""Point Claude Code's OpenTelemetry at the app: exporter variables in ``settings.json``'s ``env``.

``--install`` writes only the exporter variables (:func:`our_values`): telemetry on, OTLP for
metrics and logs over ``http/protobuf`` to ``http://127.0.0.1:<port>`` with the hook token as an
``Authorization`` header (ingest only: the API token, which reads everything, never goes into
Claude Code's settings), a 1 s log interval (a request is visible within a second or two) and a
10 s metric interval. Prompt and tool-detail logging (``OTEL_LOG_USER_PROMPTS``,
``OTEL_LOG_TOOL_DETAILS``) are never set. Claude Code reads these variables from the *user*
settings only (project settings are ignored for them; managed settings override them).

When telemetry already goes to another collector (a company's), install refuses and says where
it goes. With ``--alongside`` it adds ours for the signal that collector does not take, through
the per-signal variables (``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`` ...), which win over the general
ones for that signal; when the other collector takes both signals there is no room (one OTLP
exporter per signal) and it refuses with that reason.

Same rules as the hooks and status line installers (``store/claude_settings``): strict reading,
a backup before any change, key order and indentation kept, installing twice changes nothing (a
new port or token updates our values), and uninstall puts back the very bytes when nothing else
changed; otherwise it removes exactly what we wrote and restores what ``--alongside`` changed,
from a 0600 sidecar (``claude-watch-telemetry.json``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayapp.services.hooks_install import Result, probe_health
from trayapp.store import claude_settings
from trayapp.store.claude_settings import InvalidSettings
from trayapp.store.local_endpoint import LocalEndpoint

SIDECAR_NAME = "claude-watch-telemetry.json"
PROTOCOL = "http/protobuf"
METRIC_INTERVAL_MS = "10000"
LOGS_INTERVAL_MS = "1000"
ENABLE = "CLAUDE_CODE_ENABLE_TELEMETRY"
NEVER_SET = ("OTEL_LOG_USER_PROMPTS", "OTEL_LOG_TOOL_DETAILS")
SIGNALS = ("metrics", "logs")
EXIT_REFUSED = 3
# Variables that shape what Claude Code sends, not where: never a sign of another collector.
HARMLESS = frozenset(
    {
        "OTEL_METRICS_INCLUDE_SESSION_ID",
        "OTEL_METRICS_INCLUDE_VERSION",
        "OTEL_METRICS_INCLUDE_ACCOUNT_UUID",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_SERVICE_NAME",
    }
)
_INTERVAL = {"metrics": ("OTEL_METRIC_EXPORT_INTERVAL", METRIC_INTERVAL_MS),
             "logs": ("OTEL_LOGS_EXPORT_INTERVAL", LOGS_INTERVAL_MS)}  # fmt: skip


def base_url(endpoint: LocalEndpoint) -> str:
    return f"http://127.0.0.1:{endpoint.port}"


def header(endpoint: LocalEndpoint) -> str:
    return f"Authorization=Bearer {endpoint.hook_token}"


def our_values(endpoint: LocalEndpoint) -> dict[str, str]:
    """Every variable a plain install writes."""
    return {
        ENABLE: "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": PROTOCOL,
        "OTEL_EXPORTER_OTLP_ENDPOINT": base_url(endpoint),
        "OTEL_EXPORTER_OTLP_HEADERS": header(endpoint),
        "OTEL_METRIC_EXPORT_INTERVAL": METRIC_INTERVAL_MS,
        "OTEL_LOGS_EXPORT_INTERVAL": LOGS_INTERVAL_MS,
    }


def signal_values(endpoint: LocalEndpoint, signal: str, exporter: str | None) -> dict[str, str]:
    """The per-signal variables that send ``signal`` to us beside another collector."""
    name = signal.upper()
    kinds = [k.strip() for k in (exporter or "").split(",") if k.strip() and k.strip() != "none"]
    interval_key, interval = _INTERVAL[signal]
    return {
        ENABLE: "1",
        f"OTEL_{name}_EXPORTER": ",".join([*kinds, "otlp"]),
        f"OTEL_EXPORTER_OTLP_{name}_PROTOCOL": PROTOCOL,
        f"OTEL_EXPORTER_OTLP_{name}_ENDPOINT": f"{base_url(endpoint)}/v1/{signal}",
        f"OTEL_EXPORTER_OTLP_{name}_HEADERS": header(endpoint),
        interval_key: interval,
    }


@dataclass(frozen=True, slots=True)
class Foreign:
    """Telemetry settings that are not ours: which signals go to another OTLP collector, where."""

    keys: tuple[str, ...]
    otlp_signals: tuple[str, ...]
    destinations: dict[str, str]  # signal -> endpoint (or the exporter's default)

    def describe(self) -> str:
        where = ", ".join(f"{s} to {d}" for s, d in self.destinations.items())
        return where or f"set: {', '.join(self.keys)}"


def _relevant(key: str) -> bool:
    return key == ENABLE or key.startswith("OTEL_")


def _env(data: dict[str, Any]) -> dict[str, Any]:
    env = data.get("env", {})
    if not isinstance(env, dict):
        raise InvalidSettings('"env" is not a JSON object; the file was left untouched.')
    return env


def foreign(env: dict[str, Any], ours: dict[str, str]) -> Foreign:
    """What in ``env`` configures telemetry for someone else (``ours``: the values we wrote)."""
    keys = tuple(k for k, v in env.items() if _relevant(k) and ours.get(k) != v and k not in NEVER_SET)
    theirs = {k: str(env[k]) for k in keys}
    signals: list[str] = []
    destinations: dict[str, str] = {}
    for signal in SIGNALS:
        name = signal.upper()
        exporter_key = f"OTEL_{name}_EXPORTER"
        exporter = theirs.get(exporter_key, str(env.get(exporter_key, "")))
        endpoint = theirs.get(f"OTEL_EXPORTER_OTLP_{name}_ENDPOINT") or theirs.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        uses_otlp = "otlp" in [k.strip() for k in exporter.split(",")]
        if uses_otlp and (endpoint or exporter_key in theirs):
            signals.append(signal)
            destinations[signal] = endpoint or "the exporter's default (localhost:4317/4318)"
    return Foreign(tuple(k for k in keys if k not in HARMLESS), tuple(signals), destinations)


def sidecar_for(settings: Path) -> Path:
    return settings.parent / SIDECAR_NAME


def _written(sidecar: dict[str, Any] | None) -> dict[str, str]:
    written = (sidecar or {}).get("written")
    return {str(k): str(v) for k, v in written.items()} if isinstance(written, dict) else {}


def ours_in(env: dict[str, Any], endpoint: LocalEndpoint | None, written: dict[str, str]) -> set[str]:
    """The keys of ``env`` that are ours: what the sidecar says we wrote, still unchanged; without
    a sidecar, a plain install's values when its endpoint and header are this app's (a value such
    as ``otlp`` alone says nothing: a company's collector uses it too)."""
    mine = {k for k, v in env.items() if written.get(k) == v}
    if not written and endpoint is not None:
        full = our_values(endpoint)
        general = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS")
        if all(env.get(k) == full[k] for k in general):
            mine |= {k for k, v in env.items() if full.get(k) == v}
    return mine


def _plan(
    env: dict[str, Any], endpoint: LocalEndpoint, sidecar: dict[str, Any] | None, alongside: bool
) -> dict[str, str] | str:
    """The values to write, or the reason to refuse."""
    full, written = our_values(endpoint), _written(sidecar)
    previous = (sidecar or {}).get("previous") or {}
    mine = ours_in(env, endpoint, written)
    other = foreign({k: v for k, v in env.items() if k not in mine}, {})
    if not other.keys:
        return full
    if not alongside:
        return (
            f"Claude Code's telemetry is already configured for another collector ({other.describe()}). "
            "Nothing was changed. Run with --alongside to add Claude Watch for a signal that "
            "collector does not take, or remove those variables first."
        )
    free = [s for s in SIGNALS if s not in other.otlp_signals]
    if not free:
        return (
            f"Claude Code already sends both metrics and logs to another collector ({other.describe()}); "
            "it has one OTLP exporter per signal, so Claude Watch cannot be added alongside. "
            f"Nothing was changed. Forward from that collector to {base_url(endpoint)} instead, or "
            "remove its variables."
        )
    values: dict[str, str] = {}
    for signal in free:
        key = f"OTEL_{signal.upper()}_EXPORTER"
        before = previous.get(key) if key in mine else env.get(key)  # theirs, not our earlier value
        values |= signal_values(endpoint, signal, str(before) if before is not None else None)
    return values


def install(settings: Path, endpoint: LocalEndpoint, *, alongside: bool = False) -> Result:
    """Write (or update) our exporter variables; refuses (exit 3) beside another collector."""
    try:
        data, text = claude_settings.read(settings)
        data = {} if data is None else data
        env = _env(data)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    written = _written(sidecar)
    plan = _plan(env, endpoint, sidecar, alongside)
    if isinstance(plan, str):
        return Result(EXIT_REFUSED, plan, details={"refused": True})
    new = copy.deepcopy(data)
    new_env = _env(new)
    for key, value in written.items():  # ours from an earlier install that this one no longer writes
        if key not in plan and new_env.get(key) == value:
            _restore(new_env, key, sidecar)
    previous = dict((sidecar or {}).get("previous") or {})
    for key, value in plan.items():
        if key not in previous and written.get(key) != new_env.get(key):
            previous[key] = new_env.get(key)  # None: absent before
        new_env[key] = value
    new["env"] = new_env
    if new == data:
        return Result(0, f"already installed in {settings}", installed=True)
    had_ours = bool(written) and any(data.get("env", {}).get(k) == v for k, v in written.items())
    pre_install = (sidecar or {}).get("pre_install_text") if had_ours else text
    new_text = claude_settings.render(new, text)
    record = {"written": plan, "previous": {k: v for k, v in previous.items() if k in plan}}
    backup = claude_settings.commit_install(settings, sidecar_for(settings), new_text, pre_install, record)
    signals = [s for s in SIGNALS if f"OTEL_EXPORTER_OTLP_{s.upper()}_ENDPOINT" in plan] or list(SIGNALS)
    verb = "updated" if had_ours else "installed"
    message = f"telemetry {verb} in {settings}: {' and '.join(signals)} to {base_url(endpoint)}"
    if backup:
        message += f"\nbackup: {backup}"
    message += "\nClaude Code sessions started from now on send their telemetry to Claude Watch."
    overridden = managed_telemetry(managed_settings_path())
    if overridden:
        message += f"\nwarning: managed settings set {', '.join(overridden)}, which win over these"
    return Result(0, message, changed=True, installed=True, backup=backup, details={"signals": signals})


def _restore(env: dict[str, Any], key: str, sidecar: dict[str, Any] | None) -> None:
    previous = ((sidecar or {}).get("previous") or {}).get(key)
    if previous is None:
        env.pop(key, None)
    else:
        env[key] = previous


def uninstall(settings: Path, endpoint: LocalEndpoint | None = None) -> Result:
    """Remove what we wrote and restore what ``--alongside`` changed; everything else stays."""
    try:
        data, text = claude_settings.read(settings)
        if data is None:
            return Result(0, f"not installed in {settings}; nothing changed")
        _env(data)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    written = _written(sidecar)
    new = copy.deepcopy(data)
    new_env = _env(new)
    for key in ours_in(_env(data), endpoint, written):
        _restore(new_env, key, sidecar)
    if not new_env:
        new.pop("env", None)
    if new == data:
        sidecar_for(settings).unlink(missing_ok=True)
        return Result(0, f"not installed in {settings}; nothing changed")
    backup = claude_settings.commit_uninstall(settings, sidecar_for(settings), sidecar, text, new)
    message = f"telemetry uninstalled from {settings}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, backup=backup)


def managed_settings_path() -> Path:
    """Where an administrator's managed settings live; they override the user's settings."""
    import sys

    if sys.platform == "darwin":
        return Path("/Library/Application Support/ClaudeCode/managed-settings.json")
    if sys.platform == "win32":
        return Path("C:/ProgramData/ClaudeCode/managed-settings.json")
    return Path("/etc/claude-code/managed-settings.json")


def managed_telemetry(path: Path) -> list[str]:
    """The telemetry variables an administrator's managed settings set (read only; [] if none)."""
    try:
        data, _ = claude_settings.read(path)
        env = _env(data or {})
    except InvalidSettings:
        return []
    return sorted(k for k in env if _relevant(k))


def status(
    settings: Path,
    endpoint: LocalEndpoint | None,
    *,
    last_received: str | None = None,
    probe: bool = True,
    managed: Path | None = None,
) -> Result:
    """Installed or not, up to date, another collector, whether the app listens and has received."""
    try:
        data, _ = claude_settings.read(settings)
        env = _env(data or {})
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    managed = managed or managed_settings_path()
    overridden = managed_telemetry(managed)
    written = _written(claude_settings.read_sidecar(sidecar_for(settings)))
    ours = ours_in(env, endpoint, written) - {ENABLE}
    other = foreign({k: v for k, v in env.items() if k not in ours and k != ENABLE}, {})
    signals = [
        s
        for s in SIGNALS
        if f"OTEL_EXPORTER_OTLP_{s.upper()}_ENDPOINT" in ours
        or (
            "OTEL_EXPORTER_OTLP_ENDPOINT" in ours and "otlp" in str(env.get(f"OTEL_{s.upper()}_EXPORTER", ""))
        )
    ]
    listening = probe_health(endpoint.port) if probe and endpoint is not None else False
    stale = endpoint is not None and any(
        ("ENDPOINT" in k and str(env[k]).split("/v1/")[0] != base_url(endpoint))
        or ("HEADERS" in k and env[k] != header(endpoint))
        for k in ours
    )
    details: dict[str, Any] = {
        "settings": str(settings),
        "installed": bool(ours),
        "signals": signals,
        "other_collector": other.describe() if other.keys else None,
        "app_port": endpoint.port if endpoint else None,
        "up_to_date": bool(ours) and not stale,
        "app_listening": listening,
        "last_received_at": last_received,
        "prompt_logging": {k: env.get(k) for k in NEVER_SET if k in env},
        "managed_settings": {"path": str(managed), "telemetry_variables": overridden} if overridden else None,
    }
    lines = [
        f"telemetry installed in {settings}: {' and '.join(signals) or 'partly'} to Claude Watch"
        if ours
        else f"telemetry not installed in {settings}"
    ]
    if other.keys:
        lines.append(f"another collector is configured: {other.describe()}")
    if overridden:
        lines.append(f"managed settings ({managed}) set {', '.join(overridden)}, which win over these")
    if stale:
        lines.append("the settings carry an old port or token: run `claude-watch telemetry --install` again")
    if endpoint is None:
        lines.append("the app has no endpoint yet (it has never run)")
    lines.append("the app is listening" if listening else "the app is not running: telemetry is dropped")
    lines.append(f"last received: {last_received}" if last_received else "nothing received yet")
    return Result(0, "\n".join(lines), installed=bool(ours), details=details)
