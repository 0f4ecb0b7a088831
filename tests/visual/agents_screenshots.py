"""Render the agents' views into ./screenshots/ for a person to look at: the popup with its Agents
section, the Agents window with a running task's tail, and the New agent dialog (with the bypass
box ticked and a validation error), each light and dark. Made-up tasks only (no claude, no login).

    tests/integration/with-services.sh .venv/bin/python tests/visual/agents_screenshots.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers.states import account_state, window_state  # noqa: E402
from tests.visual.make_screenshots import pump, settings_getter  # noqa: E402  (its folders, display, app)
from trayapp.core.agents import RunKind, Task, TaskSpec, TaskState  # noqa: E402
from trayapp.core.clock import FakeClock  # noqa: E402
from trayapp.core.sessions import Session, SessionState  # noqa: E402
from trayapp.ui import theme as ui_theme  # noqa: E402
from trayapp.ui.agents_dialog import NewAgentDialog  # noqa: E402
from trayapp.ui.agents_panel import AgentsPanel  # noqa: E402
from trayapp.ui.agents_rows import agent_items  # noqa: E402
from trayapp.ui.agents_window import AgentsWindow, TailChunk  # noqa: E402
from trayapp.ui.popup import Popup  # noqa: E402

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def tasks() -> list[Task]:
    def spec(prompt: str, folder: str, **kw: object) -> TaskSpec:
        return TaskSpec(prompt=prompt, folder=f"/home/ana/src/{folder}", **kw)  # type: ignore[arg-type]

    return [
        Task(
            "t-3f9a21",
            spec("Fix the flaky upload test and add a regression test", "photo-api"),
            state=TaskState.RUNNING,
            created_at=NOW - timedelta(minutes=14),
            started_at=NOW - timedelta(minutes=12),
            slot="local",
            session_id="1b7c0d4e-2f3a-4b5c-8d9e-0a1b2c3d4e5f",
            input_tokens=38_200,
            output_tokens=6_940,
            cache_read_tokens=210_000,
            cost_usd=0.47,
            last_line="→ Bash(pytest tests/test_upload.py -q)",
        ),
        Task(
            "t-77c0e2",
            spec("Write the changelog for 2.4", "photo-api", kind=RunKind.BACKGROUND, name="changelog"),
            state=TaskState.NEEDS_YOU,
            created_at=NOW - timedelta(minutes=6),
            started_at=NOW - timedelta(minutes=5),
            slot="local",
            job_id="j81f2",
            last_line="Allow Edit(CHANGELOG.md)?",
        ),
        Task(
            "t-a81d44",
            spec("Upgrade the CI images to Debian 13", "infra"),
            state=TaskState.HELD,
            created_at=NOW - timedelta(minutes=3),
            held_reason="5-hour at 91% (holds above 85%)",
            resume_at=NOW + timedelta(hours=1, minutes=7),
        ),
        Task(
            "t-0c4e9b",
            spec("Translate the settings page to German", "web"),
            state=TaskState.QUEUED,
            created_at=NOW - timedelta(minutes=2),
        ),
        Task(
            "t-5d2b10",
            spec("Remove the dead feature flags", "web"),
            state=TaskState.DONE,
            created_at=NOW - timedelta(hours=2),
            started_at=NOW - timedelta(hours=2),
            finished_at=NOW - timedelta(hours=1, minutes=41),
            input_tokens=80_000,
            output_tokens=12_000,
            cost_usd=1.12,
            last_line="Removed 14 flags; all tests pass.",
        ),
        Task(
            "t-9e6f30",
            spec("Bump the SDK", "infra"),
            state=TaskState.FAILED,
            created_at=NOW - timedelta(hours=3),
            started_at=NOW - timedelta(hours=3),
            finished_at=NOW - timedelta(hours=2, minutes=58),
            error="claude exited with status 1: API Error: 529 overloaded",
        ),
    ]


def sessions() -> list[Session]:
    return [
        Session(
            "s-other",
            SessionState.WORKING,
            "notes",
            project_dir="/home/ana/notes",
            started_at=NOW - timedelta(minutes=40),
            cost_usd=0.88,
        )
    ]


def items():  # type: ignore[no-untyped-def]
    return agent_items(tasks(), sessions(), lambda t: 0.38)


def tail_lines() -> tuple[str, ...]:
    def assistant(text: str = "", tool: tuple[str, dict[str, str]] | None = None) -> str:
        content: list[dict[str, object]] = [{"type": "text", "text": text}] if text else []
        if tool:
            content.append({"type": "tool_use", "id": "x", "name": tool[0], "input": tool[1]})
        return json.dumps({"type": "assistant", "message": {"content": content}})

    return (
        json.dumps({"type": "system", "subtype": "init", "model": "claude-opus-4-8", "session_id": "s"}),
        assistant("I'll start by running the upload tests to see the failure."),
        assistant(tool=("Bash", {"command": "pytest tests/test_upload.py -q"})),
        assistant("The test races the thumbnail worker: it reads the file before the rename."),
        assistant(tool=("Read", {"file_path": "photo_api/upload.py"})),
        assistant(tool=("Edit", {"file_path": "photo_api/upload.py"})),
        assistant("Waiting for the rename before returning; adding a regression test."),
        assistant(tool=("Bash", {"command": "pytest tests/test_upload.py -q"})),
    )


def shoot(out: Path) -> list[Path]:
    saved = []
    for name in ("light", "dark"):
        theme = ui_theme.apply_app(name)
        popup = Popup(FakeClock(NOW))
        popup.apply_settings(settings_getter(name))
        panel = AgentsPanel(FakeClock(NOW))
        popup.add_panel(panel)
        panel.set_items(items())
        state = account_state(
            window_state("five_hour", 91.0, timedelta(hours=1, minutes=7), NOW, rate=14.0),
            window_state("seven_day", 58.0, timedelta(days=2, hours=5), NOW, rate=1.1),
            now=NOW,
            age=60,
        )
        popup.set_history_loader(lambda since: [])
        popup.set_state(state)
        popup.show_at(None)
        pump(0.3)
        popup.body_scroll.verticalScrollBar().setValue(10_000)
        pump(0.2)
        path = out / f"agents-popup-{name}.png"
        popup.grab().save(str(path))
        saved.append(path)
        popup.hide()
        popup.deleteLater()

        window = AgentsWindow(None, FakeClock(NOW))
        window.set_theme(theme)
        window.set_items(items())
        window.show()
        window.select("t-3f9a21")
        window.append_chunk(TailChunk(tail_lines(), 1))
        pump(0.3)
        path = out / f"agents-window-{name}.png"
        window.grab().save(str(path))
        saved.append(path)
        window.hide()
        window.deleteLater()

        dialog = NewAgentDialog(
            ["/home/ana/src/photo-api", "/home/ana/src/web"],
            folder_ok=lambda folder: folder.startswith("/home/ana/src"),
            estimate=lambda folder: 0.38 if folder.endswith("photo-api") else None,
            slots=["local", "docker:py312"],
            theme=theme,
        )
        dialog.prompt.setPlainText("Fix the flaky upload test\nand add a regression test")
        dialog.bypass.setChecked(True)
        dialog.show()
        pump(0.2)
        path = out / f"agents-dialog-{name}.png"
        dialog.grab().save(str(path))
        saved.append(path)
        dialog.prompt.setPlainText("")
        dialog.bypass.setChecked(False)
        dialog.folder.setEditText("/nowhere/project")
        dialog.start()
        pump(0.2)
        path = out / f"agents-dialog-invalid-{name}.png"
        dialog.grab().save(str(path))
        saved.append(path)
        dialog.hide()
        dialog.deleteLater()
    ui_theme.reset_app()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for p in shoot(out):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
