"""Install and uninstall Claude Watch's HTTP hooks in Claude Code's ``settings.json``.

For every event in :class:`HookEventName` one matcher group is added under ``hooks`` with one
``http`` hook that POSTs the event to ``http://127.0.0.1:<port>/hooks/v1/event``. The bearer
token is not written into the hook: the header says ``Bearer $CLAUDE_WATCH_HOOK_TOKEN`` and
``allowedEnvVars`` lets Claude Code fill it from the ``env`` block of the same settings file,
where the installer puts the token. Tool events (PermissionRequest, PostToolUse) take the
matcher ``"*"``; the others have no matcher (Stop hooks must not have one). Our hooks are known
by their URL (loopback, our path), so uninstalling removes exactly them and leaves every other
tool's hooks alone.

The rules are the status line installer's (``store/claude_settings``): strict reading, a backup
before any change, other keys and their order kept, the file's indentation, installing twice
changes nothing (a new port or token updates our entries in place), invalid JSON never written,
and uninstalling restores the very bytes when nothing else changed (a 0600 sidecar,
``claude-watch-hooks.json``, remembers them).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trayapp.core.sessions import HookEventName
from trayapp.store import claude_settings
from trayapp.store.claude_settings import InvalidSettings
from trayapp.store.local_endpoint import LocalEndpoint

HOOK_PATH = "/hooks/v1/event"  # the receiver's route (services/hook_receiver.HOOK_PATH)
TOKEN_ENV = "CLAUDE_WATCH_HOOK_TOKEN"
SIDECAR_NAME = "claude-watch-hooks.json"
HOOK_TIMEOUT = 2  # seconds Claude Code waits for the app; the receiver answers at once
TOOL_EVENTS = frozenset({HookEventName.PERMISSION_REQUEST, HookEventName.POST_TOOL_USE})
_OUR_URL = re.compile(r"^http://127\.0\.0\.1:(\d{1,5})" + re.escape(HOOK_PATH) + r"$")


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of an action: exit code, a message for the user, and facts for ``--json``."""

    code: int
    message: str
    changed: bool = False
    installed: bool = False
    backup: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)


def sidecar_for(settings: Path) -> Path:
    return settings.parent / SIDECAR_NAME


def hook_entry(port: int) -> dict[str, Any]:
    return {
        "type": "http",
        "url": f"http://127.0.0.1:{port}{HOOK_PATH}",
        "headers": {"Authorization": "Bearer $" + TOKEN_ENV},  # expanded by Claude Code
        "allowedEnvVars": [TOKEN_ENV],
        "timeout": HOOK_TIMEOUT,
    }


def group_for(event: HookEventName, port: int) -> dict[str, Any]:
    group: dict[str, Any] = {"matcher": "*"} if event in TOOL_EVENTS else {}
    group["hooks"] = [hook_entry(port)]
    return group


def is_ours(hook: Any) -> bool:
    """Whether one hook entry is ours: an http hook to our path on loopback."""
    return (
        isinstance(hook, dict)
        and hook.get("type") == "http"
        and isinstance(hook.get("url"), str)
        and bool(_OUR_URL.match(hook["url"]))
    )


def _hooks_block(data: dict[str, Any]) -> dict[str, Any]:
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise InvalidSettings('"hooks" is not a JSON object; the file was left untouched.')
    for name, groups in hooks.items():
        if not isinstance(groups, list):
            raise InvalidSettings(f'"hooks.{name}" is not a list; the file was left untouched.')
    return hooks


def _strip_ours(groups: list[Any]) -> tuple[list[Any], bool]:
    """``groups`` without our hooks (a group left empty by that goes); whether any was found."""
    kept: list[Any] = []
    found = False
    for group in groups:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(inner, list) or not any(is_ours(h) for h in inner):
            kept.append(group)
            continue
        found = True
        others = [h for h in inner if not is_ours(h)]
        if others:
            kept.append({**group, "hooks": others})
    return kept, found


def _with_ours(data: dict[str, Any], endpoint: LocalEndpoint) -> dict[str, Any]:
    """A copy of ``data`` with exactly our entries for ``endpoint`` (updated in place if present)."""
    new = copy.deepcopy(data)
    hooks = _hooks_block(new)
    for event in HookEventName:
        wanted = group_for(event, endpoint.port)
        groups = hooks.get(event.value, [])
        at = next((i for i, g in enumerate(groups) if _only_ours(g)), None)
        rest, _ = _strip_ours([g for i, g in enumerate(groups) if i != at])
        if at is None:
            hooks[event.value] = [*rest, wanted]
        else:  # keep our group where it was
            hooks[event.value] = [*rest[:at], wanted, *rest[at:]]
    new["hooks"] = hooks
    env = new.get("env", {})
    if not isinstance(env, dict):
        raise InvalidSettings('"env" is not a JSON object; the file was left untouched.')
    env[TOKEN_ENV] = endpoint.hook_token
    new["env"] = env
    return new


def _only_ours(group: Any) -> bool:
    inner = group.get("hooks") if isinstance(group, dict) else None
    return isinstance(inner, list) and len(inner) == 1 and is_ours(inner[0])


def _without_ours(data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    new = copy.deepcopy(data)
    hooks = _hooks_block(new)
    removed = False
    for name in list(hooks):
        kept, found = _strip_ours(hooks[name])
        if found:
            removed = True
            if kept:
                hooks[name] = kept
            else:
                del hooks[name]
    if removed and not hooks:
        new.pop("hooks", None)
    env = new.get("env")
    if isinstance(env, dict) and TOKEN_ENV in env:
        removed = True
        del env[TOKEN_ENV]
        if not env:
            del new["env"]
    return new, removed


def install(settings: Path, endpoint: LocalEndpoint) -> Result:
    """Add (or update) our hooks and the token's env entry."""
    try:
        data, text = claude_settings.read(settings)
        data = {} if data is None else data
        new = _with_ours(data, endpoint)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    if new == data:
        return Result(0, f"already installed in {settings}", installed=True)
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    _, had_ours = _without_ours(data)
    pre_install = (sidecar or {}).get("pre_install_text") if had_ours and sidecar else text
    new_text = claude_settings.render(new, text)
    backup = claude_settings.commit_install(settings, sidecar_for(settings), new_text, pre_install, {})
    verb = "updated" if had_ours else "installed"
    message = f"hooks {verb} in {settings} ({len(HookEventName)} events, port {endpoint.port})"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, installed=True, backup=backup)


def uninstall(settings: Path) -> Result:
    """Remove our hooks and the token's env entry; everything else stays."""
    try:
        data, text = claude_settings.read(settings)
        if data is None:
            return Result(0, f"not installed in {settings}; nothing changed")
        new, removed = _without_ours(data)
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    if not removed:
        return Result(0, f"not installed in {settings}; nothing changed")
    sidecar = claude_settings.read_sidecar(sidecar_for(settings))
    backup = claude_settings.commit_uninstall(settings, sidecar_for(settings), sidecar, text, new)
    message = f"hooks uninstalled from {settings}"
    if backup:
        message += f"\nbackup: {backup}"
    return Result(0, message, changed=True, backup=backup)


def probe_health(port: int, timeout: float = 1.0) -> bool:
    """Whether Claude Watch answers ``GET /health`` on ``port`` (loopback only)."""
    import http.client  # not urllib: it would send a loopback request through a configured proxy

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        reply = conn.getresponse()
        body = json.loads(reply.read(1024)) if reply.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return isinstance(body, dict) and body.get("ok") is True and body.get("app") == "claude-watch"


def status(settings: Path, endpoint: LocalEndpoint | None, *, probe: bool = True) -> Result:
    """What is installed, whether it matches the app's port and token, whether the app listens."""
    try:
        data, _ = claude_settings.read(settings)
        hooks = _hooks_block(data or {})
    except InvalidSettings as exc:
        return Result(2, f"error: {exc}")
    events: list[str] = []
    ports: set[int] = set()
    for name, groups in hooks.items():
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            for hook in inner if isinstance(inner, list) else []:
                match = _OUR_URL.match(hook["url"]) if is_ours(hook) else None
                if match:
                    ports.add(int(match.group(1)))
                    if name not in events:
                        events.append(name)
    env = (data or {}).get("env")
    token = env.get(TOKEN_ENV) if isinstance(env, dict) else None
    events = [e.value for e in HookEventName if e.value in events] + [
        e for e in events if e not in HookEventName.__members__.values()
    ]
    missing = [e.value for e in HookEventName if e.value not in events]
    app_port = endpoint.port if endpoint else None
    listening = probe_health(app_port) if probe and app_port else False
    details: dict[str, Any] = {
        "settings": str(settings),
        "installed": bool(events),
        "events": events,
        "missing_events": missing,
        "settings_ports": sorted(ports),
        "app_port": app_port,
        "token_in_settings": isinstance(token, str),
        "token_matches": bool(endpoint and token == endpoint.hook_token),
        "app_listening": listening,
    }
    if not events:
        return Result(0, f"hooks not installed in {settings}", details=details)
    lines = [f"hooks installed in {settings}: {len(events)} of {len(HookEventName)} events"]
    if missing:
        lines.append(f"missing: {', '.join(missing)}")
    stale = []
    if app_port is not None and ports != {app_port}:
        stale.append(f"settings post to port {', '.join(map(str, sorted(ports)))}, the app uses {app_port}")
    if endpoint is not None and not details["token_matches"]:
        stale.append("the token in settings is not the app's current token")
    if endpoint is None:
        stale.append("the app has no endpoint yet (it has never run)")
    lines.extend(stale)
    if stale or missing:
        lines.append("run `claude-watch hooks --install` again to bring them up to date")
    lines.append("the app is listening" if listening else "the app is not running: events are dropped")
    details["up_to_date"] = not stale and not missing
    return Result(0, "\n".join(lines), installed=True, details=details)
