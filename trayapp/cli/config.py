"""``claude-watch config list|get KEY|set KEY VALUE|reset KEY``: settings without the GUI."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("config", help="show or change settings")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    csub.add_parser("list", help="every setting with its value, default and meaning")
    g = csub.add_parser("get", help="print one setting's value")
    g.add_argument("key")
    s = csub.add_parser("set", help="change a setting (validated)")
    s.add_argument("key")
    s.add_argument("value", help="lists are comma-separated, booleans true/false")
    r = csub.add_parser("reset", help="return a setting to its default")
    r.add_argument("key")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trayapp import settings as st

    cfg = st.load()
    if args.action in ("set", "reset") and cfg.file_error is not None:
        # Writing would replace every hand-edited value the file holds: refuse, touch nothing.
        print(f"error: {cfg.file_error}; it was left untouched. Fix it and try again.", file=sys.stderr)
        return 1
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.action == "list":
        print(_listing(cfg))
        return 0
    if args.key not in st.BY_KEY:
        print(
            f"error: unknown setting {args.key!r}; `claude-watch config list` shows them all", file=sys.stderr
        )
        return 2
    if args.action == "get":
        print(st.format_value(cfg.get(args.key)))
        return 0
    try:
        if args.action == "reset":
            st.commit(cfg, reset=[args.key])
        else:
            st.commit(cfg, {args.key: st.parse_text(args.key, args.value)})
    except st.SettingsFileError as exc:  # it broke after we read it
        print(f"error: {exc}; it was left untouched. Fix it and try again.", file=sys.stderr)
        return 1
    except st.SettingEffectError as exc:
        print(f"error: {exc}; the setting was not saved", file=sys.stderr)
        return 1
    except st.SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        from trayapp.store.errors import as_disk_full

        if as_disk_full(exc, cfg.path) is not None:
            print(f"disk full: settings not saved (no space left for {cfg.path})", file=sys.stderr)
        else:
            print(f"error: cannot write {cfg.path}: {exc.strerror or exc}; not saved", file=sys.stderr)
        return 1
    suffix = " (default)" if args.action == "reset" else ""
    print(f"{args.key} = {st.format_value(cfg.get(args.key))}{suffix}")
    return 0


def _listing(cfg: Any) -> str:
    """Every setting by section, its help wrapped to the terminal (keys bold, changes marked)."""
    from trayapp import settings as st
    from trayapp.cli.term import Painter, terminal_width, wrap

    paint, width = Painter(), terminal_width()
    lines = [paint.dim(f"# {cfg.path}")]
    section = None
    for setting, value in cfg.items():
        if setting.section != section:
            section = setting.section
            lines.extend(("", paint.bold(f"[{section}]")))
        marker = "" if cfg.is_default(setting.key) else "   " + paint.level("(changed)", "warning")
        lines.append(f"{paint.bold(setting.key)} = {st.format_value(value) or '(empty)'}{marker}")
        extra = f" {setting.help}" if setting.help else ""
        if setting.choices:
            extra += f" Choices: {', '.join(setting.choices)}."
        default = st.format_value(setting.default) or "(empty)"
        lines.append(wrap(f"    {setting.label}. Default {default}.{extra}", width, "    "))
    return "\n".join(lines)
