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
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (warm-start cost)
if TYPE_CHECKING:
    from collections.abc import Mapping

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


def discover(roots: list[Path]) -> list[TranscriptFile]:
    """Every transcript file under ``roots`` (sorted by path within each root)."""
    found: list[TranscriptFile] = []
    seen: set[str] = set()
    sep = os.sep
    for root in roots:
        base = str(root)
        cut = len(base) + (0 if base.endswith(sep) else 1)
        for path in sorted(_walk(base)):
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
    return found


def _walk(top: str) -> list[str]:
    out: list[str] = []
    stack = [(top, False)]
    while stack:
        directory, in_workflows = stack.pop()
        try:
            it = os.scandir(directory)
        except OSError:
            continue
        with it:
            for de in it:
                name = de.name
                try:
                    if de.is_dir(follow_symlinks=False):
                        if name not in SKIP_DIRS:
                            stack.append((de.path, in_workflows or name == "workflows"))
                    elif name.endswith(".jsonl") and de.is_file():
                        if in_workflows and name == "journal.jsonl":
                            continue
                        out.append(de.path)
                except OSError:
                    continue
    return out
