"""``claude-watch --self-test``: build the tray and the popup (offscreen when there is no display),
check what packaging and a bare desktop break, print ``SELF-TEST OK`` and exit 0, or say what
failed and exit 1. The frozen app runs it before anything is packed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.app import ClaudeWatch


def run_self_test(cw: ClaudeWatch) -> int:
    from trayapp import paths
    from trayapp.core.models import AccountState

    problems = []
    cw.tray.set_state(AccountState(snapshot=None))
    cw.popup.set_state(AccountState(snapshot=None))
    if cw.tray.action_texts()[:1] != ["Open dashboard"]:
        problems.append("tray menu")
    if not (paths.resources_dir() / "icons" / "claude-watch-128.png").is_file():
        problems.append(f"resources missing in {paths.resources_dir()}")
    try:
        import desktop_notifier  # noqa: F401
    except Exception as exc:
        problems.append(f"desktop-notifier: {exc}")
    if problems:
        print("SELF-TEST FAILED: " + "; ".join(problems))
        return 1
    print(f"SELF-TEST OK (tray available: {cw.tray_available})")
    return 0
