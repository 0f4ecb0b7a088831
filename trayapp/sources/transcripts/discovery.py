"""Where Claude Code transcripts are: the scan roots and the ``*.jsonl`` files under them.

Roots follow ccusage (claude-data-formats.md §1.1): every comma-separated entry of
``CLAUDE_CONFIG_DIR`` (a config dir, whose ``projects/`` is scanned, or a ``projects/`` dir
itself); without it both ``$XDG_CONFIG_HOME/claude/projects`` (default ``~/.config/claude``) and
``~/.claude/projects``. Roots are de-duplicated by resolved path. Files are every ``*.jsonl`` below a
root, including ``<session>/subagents/`` and legacy flat ``agent-*.jsonl`` files, except ``memory/``
and ``tool-results/`` folders and workflow ``journal.jsonl`` files.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

SKIP_DIRS = frozenset({"memory", "tool-results"})


class TranscriptFile:
    """One transcript file and the hints its location gives. A plain ``__slots__`` class (cheaper to
    define at start-up than a dataclass; every warm rescan lists all files)."""

    __slots__ = ("path", "project_hint", "session_hint")

    def __init__(self, path: str, project_hint: str, session_hint: str) -> None:
        self.path = path
        self.project_hint = project_hint  # the (lossy) project folder name, used only when lines carry no cwd
        self.session_hint = session_hint  # used only when lines carry no sessionId

    def __eq__(self, other: object) -> bool:
        return type(other) is TranscriptFile and (self.path, self.project_hint, self.session_hint) == (
            other.path,
            other.project_hint,
            other.session_hint,
        )

    def __hash__(self) -> int:
        return hash((self.path, self.project_hint, self.session_hint))

    def __repr__(self) -> str:
        return f"TranscriptFile({self.path!r}, {self.project_hint!r}, {self.session_hint!r})"


def transcript_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """Existing ``projects`` directories to scan, in order, without duplicates."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    raw = env.get("CLAUDE_CONFIG_DIR", "").strip()
    candidates: list[Path] = []
    if raw:
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            entry = Path(part).expanduser()
            candidates.append(entry if entry.name == "projects" else entry / "projects")
    else:
        xdg = env.get("XDG_CONFIG_HOME", "").strip()
        config_home = Path(xdg).expanduser() if xdg else home / ".config"
        candidates += [config_home / "claude" / "projects", home / ".claude" / "projects"]
    roots: list[Path] = []
    seen: set[Path] = set()
    for cand in candidates:
        if not cand.is_dir():
            continue
        resolved = cand.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        roots.append(cand)
    return roots


def discover(roots: list[Path], *, listing_cache: bool = True) -> list[TranscriptFile]:
    """Every transcript file under ``roots`` (sorted by path within each root).

    With ``listing_cache`` the folder listings are remembered in ``cache_dir()/transcript-dirs.json``
    and reused for a folder whose modification time has not changed, so a rescan of an unchanged
    tree costs one ``stat`` per folder instead of reading every folder (see :class:`_Listings`).
    """
    listings = _Listings.load() if listing_cache else _Listings(None, {})
    found: list[TranscriptFile] = []
    seen: set[str] = set()
    sep = os.sep
    for root in roots:
        base = str(root)
        cut = len(base) + (0 if base.endswith(sep) else 1)
        for path in sorted(_walk(base, listings)):
            if path in seen:
                continue
            seen.add(path)
            # _walk joins names onto ``base`` verbatim, so slicing is os.path.relpath without its
            # per-call normalisation (a warm rescan does this for every file).
            rel = path[cut:].split(sep)
            stem = rel[-1][: -len(".jsonl")]
            project = rel[0] if len(rel) > 1 else ""
            session = rel[1] if len(rel) > 2 else stem
            found.append(TranscriptFile(path, project, session))
    listings.save()
    return found


# A listing is reused only while the folder's mtime is what it was and was already this much older
# than the listing: a change in the same timestamp tick as an earlier listing cannot go unseen (as
# long as a network file system's clock is within these 2 s of ours).
SETTLE_NS = 2_000_000_000
CACHE_FILENAME = "transcript-dirs.json"


class _Listings:
    """Folder path -> [mtime_ns, listed_at_ns, sub-folders, ``*.jsonl`` files], kept between runs.

    A folder's mtime changes whenever an entry is added, removed or renamed in it (appending to a
    transcript does not, and needs no listing: the ledger writer stats every file). An unreadable or
    malformed cache file is ignored (the folders are read), and failing to write it loses nothing.
    """

    def __init__(self, path: str | None, old: dict[str, list[Any]]) -> None:
        self.path = path
        self.old = old
        self.new: dict[str, list[Any]] = {}
        self.changed = False

    @classmethod
    def load(cls) -> _Listings:
        import json

        from trayapp import paths

        path = str(paths.cache_dir() / CACHE_FILENAME)
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read())
            old = data["dirs"] if data.get("version") == 1 and isinstance(data.get("dirs"), dict) else {}
        except (OSError, ValueError, AttributeError):
            old = {}
        return cls(path, old)

    def get(self, directory: str, mtime_ns: int) -> tuple[list[str], list[str]] | None:
        entry = self.old.get(directory)
        if (
            isinstance(entry, list)
            and len(entry) == 4
            and entry[0] == mtime_ns
            and isinstance(entry[1], int)
            and entry[1] - mtime_ns > SETTLE_NS
            and isinstance(entry[2], list)
            and isinstance(entry[3], list)
            and all(type(name) is str for name in entry[2])
            and all(type(name) is str for name in entry[3])
        ):
            self.new[directory] = entry
            return entry[2], entry[3]
        return None

    def put(self, directory: str, mtime_ns: int, listed_ns: int, dirs: list[str], files: list[str]) -> None:
        self.new[directory] = [mtime_ns, listed_ns, dirs, files]
        self.changed = True

    def save(self) -> None:
        if self.path is None or not (self.changed or self.new.keys() != self.old.keys()):
            return
        import json

        from trayapp.store.files import atomic_write  # a temp name per process and thread

        try:
            atomic_write(self.path, json.dumps({"version": 1, "dirs": self.new}, separators=(",", ":")))
        except OSError:
            pass  # the next scan lists the folders again


def _walk(top: str, listings: _Listings) -> list[str]:
    out: list[str] = []
    sep = os.sep
    stack = [(top, False)]
    while stack:
        directory, in_workflows = stack.pop()
        try:
            mtime_ns = os.stat(directory).st_mtime_ns
        except OSError:
            continue
        known = listings.get(directory, mtime_ns)
        if known is None:
            listed_ns = time.time_ns()
            try:
                dirs, files = _list(directory)
            except OSError:
                continue
            listings.put(directory, mtime_ns, listed_ns, dirs, files)
        else:
            dirs, files = known
        # os.path.join(directory, name), as scandir builds entry paths, without its per-call cost.
        prefix = directory if directory.endswith(sep) else directory + sep
        for name in dirs:
            stack.append((prefix + name, in_workflows or name == "workflows"))
        for name in files:
            if not (in_workflows and name == "journal.jsonl"):
                out.append(prefix + name)
    return out


def _list(directory: str) -> tuple[list[str], list[str]]:
    """(sub-folders to descend into, ``*.jsonl`` files) of one folder."""
    dirs: list[str] = []
    files: list[str] = []
    with os.scandir(directory) as it:
        for de in it:
            name = de.name
            try:
                if de.is_dir(follow_symlinks=False):
                    if name not in SKIP_DIRS:
                        dirs.append(name)
                elif name.endswith(".jsonl") and de.is_file():
                    files.append(name)
            except OSError:
                continue
    return dirs, files
