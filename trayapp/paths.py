"""Where Claude Watch keeps its files.

Platform directories follow platformdirs (computed by hand on Linux/BSD and macOS, where the
rules are short and the import is not; tests compare the two). Setting ``CLAUDE_WATCH_HOME``
moves every one of them under that directory (``config/``, ``data/``, ``cache/``, ``logs/``,
``state/``), which is what tests and scripts use to stay hermetic. Nothing is created at import
time; callers ask for a directory with ``ensure=True`` when they are about to write.

Every file the app writes, and who writes it (paths under ``trayapp/``). Small files written
whole are replaced atomically through ``trayapp.store.files.atomic_write`` (temp file + rename,
0600 unless said otherwise; ``settings.py`` and ``services/alerts.py`` still carry their own
temp-file writes). The two logs are appended. SQLite files have their
``-wal``/``-shm`` companions and get a ``<name>.v<N>.<stamp>.bak`` copy before a migration
(``store/db.py``).

======  =========================================  ========================================================
Folder  File                                       Written by
======  =========================================  ========================================================
config  settings.toml, .settings.toml.lock         settings.py (settings dialog, `config set`)
config  accounts.json, accounts.json.last-good     store/accounts_repo.py (`accounts add/remove/rename`,
                                                   Settings > Accounts)
config  schedule.json, schedule.json.good          store/schedule_store.py (the window plan: `schedule`,
                                                   the app)
data    claude-watch.sqlite3                       store/usage_repo.py, for services/usage_engine.py
data    claude-watch-demo.sqlite3                  --demo: services/demo_seed.py, then the engine; like
                                                   every --demo file, in a temp folder (demo.py)
data    ledger.sqlite3                             store/ledger/, for services/tracking_service.py
data    ledger.sqlite3.scan.lock                   services/ledger_writer.py (one scan at a time, any process)
data    achievements.json (unlocks per account)    store/achievements_repo.py, for
                                                   services/achievements_service.py
data    telemetry.sqlite3                          store/telemetry_repo.py, for services/telemetry_service.py
                                                   (Claude Code's OpenTelemetry received by the app)
data    agents.sqlite3 (agent tasks)               store/agents_repo.py, for services/agent_queue.py
                                                   (the CLI reads it, and writes its foreground runs)
data    agents/<task id>.log, .log.1 (raw output)  services/agent_logs.py (8 MB, one rotation)
data    agents/worktrees/<task id>/                services/agent_runner.py (git worktree add)
data    agents/container-home/ (HOME of claude in  services/agent_containers.py makes it; Claude Code
        the container slots: its sessions)         in the containers writes it (as the user)
state   outbox.sqlite3                             store/outbox_repo.py (channels/outbox.py, cli/notify.py)
state   alerts.json (fired alerts, the pause)      services/alerts.py
state   today-cost.json                            services/ledger_service.py, after each app scan
state   login-freshness.json (warnings sent)       services/login_watch.py (per account and login deadline)
state   loop-health.json                           runtime.py (LoopHealth; the tray app only)
state   claude-watch-<user>-<hash>.lock            platform/single_instance.py (QLockFile: who runs)
state   session-hooks.json                         store/session_hooks.py, for services/sessions_service.py
state   schedule-attempts.jsonl (capped),          store/schedule_store.py, for services/window_start.py
        schedule-guard.json (+ .lock)              (one start per closed window, across processes)
state   scheduler.json                             services/scheduler_memory.py (last tick, anchors handled)
state   local-server.json (local server port,      store/local_endpoint.py (the tray app; `hooks --install`
        hook token)                                creates it when the app never ran)
state   api-token, api-clients.json (0600)         store/api_token.py (the tray app, `serve --new-token`)
state   statusline/sessions/<session>.json,        statusline/capture.py (the `statusline` command);
        statusline/rate-limits.json,               read by sources/statusline_capture.py
        statusline/.pruned
cache   transcript-dirs.json                       sources/transcripts/discovery.py
cache   claude-version.json                        sources/claude_version.py
cache   claude-watch-sign-in.command (macOS)       platform/terminal.py ("Open sign-in", `login open`)
cache   notification-icons/<level>-<percent>.png   ui/icon.py (an alert's gauge, for its notification)
logs    claude-watch.log (+ 3 rotated)             logging_setup.py (the tray app)
logs    statusline.log (+ 1 rotated)               statusline/log.py (appended, size-capped)
other   ~/.config/autostart/claude-watch.desktop;  platform/autostart.py (files 0644)
        macOS: ~/Library/LaunchAgents/*.plist;
        Windows: the HKCU Run key value
other   Claude Code's settings.json, its backups,  statusline/install.py (`statusline --install`;
        claude-watch-statusline.json next to it    keeps the file's mode, writes through a symlink)
other   the same settings.json (hooks, env), its   services/hooks_install.py (`hooks --install`), both
        backups, claude-watch-hooks.json next to   through store/claude_settings.py
        it
other   an exported CSV, where the user says       services/export.py (`export csv`, the popup's Export)
======  =========================================  ========================================================

The single-instance guard (``platform/single_instance.py``) is a lock file (above) and a local socket.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from trayapp import APP_ID

HOME_ENV = "CLAUDE_WATCH_HOME"


class AppDirs:
    """The app's directories. A plain ``__slots__`` class: every command imports this module, and
    defining a dataclass costs about a millisecond of start-up."""

    __slots__ = ("config", "data", "cache", "logs", "state")

    def __init__(self, config: Path, data: Path, cache: Path, logs: Path, state: Path) -> None:
        self.config = config
        self.data = data
        self.cache = cache
        self.logs = logs
        self.state = state

    def __eq__(self, other: object) -> bool:
        return type(other) is AppDirs and self.all() == other.all()

    def __hash__(self) -> int:
        return hash(tuple(self.all().values()))

    def __repr__(self) -> str:
        return "AppDirs(" + ", ".join(f"{k}={v!r}" for k, v in self.all().items()) + ")"

    def all(self) -> dict[str, Path]:
        return {
            "config": self.config,
            "data": self.data,
            "cache": self.cache,
            "logs": self.logs,
            "state": self.state,
        }


def app_dirs() -> AppDirs:
    """Return the app's directories, honouring ``CLAUDE_WATCH_HOME`` (read on every call)."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        return AppDirs(
            config=root / "config",
            data=root / "data",
            cache=root / "cache",
            logs=root / "logs",
            state=root / "state",
        )
    fast = platform_dirs(sys.platform)
    if fast is not None:
        return fast
    import platformdirs  # lazy: the statusline command must stay light

    pd = platformdirs.PlatformDirs(appname=APP_ID, appauthor=False)
    return AppDirs(
        config=Path(pd.user_config_dir),
        data=Path(pd.user_data_dir),
        cache=Path(pd.user_cache_dir),
        logs=Path(pd.user_log_dir),
        state=Path(pd.user_state_dir),
    )


def platform_dirs(platform: str) -> AppDirs | None:
    """platformdirs' user directories for this app, computed by hand on Linux/BSD and macOS.

    Importing platformdirs costs about 7 ms, paid by every command that opens a database; its rules
    for these five directories are short: ``$XDG_*_HOME`` when absolute, else the platform default
    under ``$HOME`` (Linux: ``~/.config``, ``~/.local/share``, ``~/.cache``, ``~/.local/state``, logs in
    ``<state>/log``; macOS: ``~/Library/Application Support``, ``~/Library/Caches``,
    ``~/Library/Logs``). Returns None where they are not replicated (Windows and others, or a
    ``$HOME`` that is not absolute), and the caller asks platformdirs. Tests compare both.
    """
    home = os.environ.get("HOME", "")
    if not home.startswith("/"):
        return None

    def xdg(var: str, default: str) -> str:
        value = os.environ.get(var, "")
        base = value if value.startswith("/") else os.path.expanduser(default)
        return os.path.join(base, APP_ID)

    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        state = xdg("XDG_STATE_HOME", "~/.local/state")
        return AppDirs(
            config=Path(xdg("XDG_CONFIG_HOME", "~/.config")),
            data=Path(xdg("XDG_DATA_HOME", "~/.local/share")),
            cache=Path(xdg("XDG_CACHE_HOME", "~/.cache")),
            logs=Path(state, "log"),
            state=Path(state),
        )
    if platform == "darwin":
        support = "~/Library/Application Support"
        return AppDirs(
            config=Path(xdg("XDG_CONFIG_HOME", support)),
            data=Path(xdg("XDG_DATA_HOME", support)),
            cache=Path(xdg("XDG_CACHE_HOME", "~/Library/Caches")),
            logs=Path(os.path.expanduser("~/Library/Logs"), APP_ID),
            state=Path(xdg("XDG_STATE_HOME", support)),
        )
    return None


def ensure(path: Path) -> Path:
    """Create ``path`` (a directory) with private permissions if missing and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def tighten_permissions(dirs: AppDirs | None = None) -> int:
    """Take group and other permissions off the app's folders and files (0755 -> 0700, 0644 ->
    0600); returns how many modes changed.

    New files are private already (the entry point sets the umask to 077, and ``atomic_write``
    sets exact modes); this repairs folders restored from a backup or made by an older version,
    where usage history, project paths and costs would be readable by other local users. Only
    entries owned by this user are changed, symlinks are never followed, and a file that cannot
    be changed is left alone (it is reported by nothing: the next start tries again)."""
    if os.name != "posix":
        return 0
    changed = 0
    uid = os.geteuid()

    def fix(path: str, st: os.stat_result) -> None:
        nonlocal changed
        if st.st_uid == uid and st.st_mode & 0o077:
            try:
                os.chmod(path, st.st_mode & 0o700)  # the owner's bits stay; group and others go
                changed += 1
            except OSError:
                pass

    def walk(folder: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.is_dir(follow_symlinks=False):
                fix(entry.path, st)
                walk(entry.path)
            elif entry.is_file(follow_symlinks=False):
                fix(entry.path, st)

    for folder in {str(p) for p in (dirs or app_dirs()).all().values()}:
        try:
            st = os.stat(folder, follow_symlinks=False)
        except OSError:
            continue
        fix(folder, st)
        walk(folder)
    if changed:
        import logging

        logging.getLogger(__name__).info("made %d of Claude Watch's files and folders private", changed)
    return changed


def config_dir() -> Path:
    return app_dirs().config


def data_dir() -> Path:
    return app_dirs().data


def cache_dir() -> Path:
    return app_dirs().cache


def log_dir() -> Path:
    return app_dirs().logs


def state_dir() -> Path:
    return app_dirs().state


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def accounts_file() -> Path:
    """The added Claude Code accounts (``store/accounts_repo.py``); absent with a single login."""
    return config_dir() / "accounts.json"


def database_file() -> Path:
    return data_dir() / "claude-watch.sqlite3"


def resources_dir() -> Path:
    """The bundled ``resources/`` folder (next to the package, or inside a frozen bundle)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if candidate.is_dir():
            return candidate
    return here.parent / "resources"


def claude_config_dirs() -> list[Path]:
    """Claude Code's config directories: ``CLAUDE_CONFIG_DIR`` (comma-separated) or ``~/.claude``.

    Used for credentials, ``.claude.json``, ``settings.json`` and ``stats-cache.json``.
    A ``projects`` entry in the list is taken as its parent config dir.
    """
    raw = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if not raw:
        return [Path.home() / ".claude"]
    dirs: list[Path] = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        p = Path(part).expanduser()
        if p.name == "projects":
            p = p.parent
        if p not in dirs:
            dirs.append(p)
    return dirs or [Path.home() / ".claude"]
