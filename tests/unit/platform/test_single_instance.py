"""Single instance over a real local socket: the second launch asks the first to show itself."""

from __future__ import annotations

from trayapp.platform.single_instance import SingleInstance, notify_running, server_name


def test_second_claim_fails_and_first_is_asked_to_show(qtbot) -> None:
    first = SingleInstance(server_name())
    assert first.claim()
    try:
        with qtbot.waitSignal(first.activation_requested, timeout=3000):
            second = SingleInstance(first.name)
            assert not second.claim()
    finally:
        first.close()


def test_name_depends_on_the_app_home(monkeypatch, tmp_path) -> None:
    a = server_name()
    monkeypatch.setenv("CLAUDE_WATCH_HOME", str(tmp_path / "other"))
    assert server_name() != a


def test_nobody_running_means_no_answer(qtbot) -> None:
    assert not notify_running(server_name() + "-nobody")
    inst = SingleInstance(server_name() + "-fresh")
    assert inst.claim()
    inst.close()


def test_repeated_launches_from_other_processes(qtbot) -> None:
    import subprocess
    import sys

    first = SingleInstance(server_name() + "-multi")
    assert first.claim()
    got = []
    first.activation_requested.connect(lambda: got.append(1))
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
        "from trayapp.platform.single_instance import notify_running;"
        f"sys.exit(0 if notify_running({first.name!r}) else 3)"
    )
    try:
        for n in range(1, 4):
            proc = subprocess.Popen([sys.executable, "-c", code])
            qtbot.waitUntil(lambda p=proc: p.poll() is not None, timeout=10000)
            assert proc.returncode == 0
            qtbot.waitUntil(lambda n=n: len(got) == n, timeout=3000)
        qtbot.wait(100)  # the disconnects are processed without a crash
    finally:
        first.close()


CLAIMANT = """
import sys, time
from PySide6.QtCore import QCoreApplication
app = QCoreApplication([])
from trayapp.platform.single_instance import SingleInstance
start_at = float(sys.argv[2])
while time.time() < start_at:  # every claimant starts at the same moment
    pass
inst = SingleInstance(sys.argv[1])
won = inst.claim()
print("won" if won else "lost", flush=True)
deadline = time.monotonic() + 1.5  # a winner keeps serving while the others ask it to show
while time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
inst.close()
"""


def test_simultaneous_launches_elect_exactly_one_instance(tmp_path, monkeypatch) -> None:
    """Four launches at the same instant, ten times: one wins each round (with the socket alone
    two could both find nobody listening, and the second removed the first's socket)."""
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "CLAUDE_WATCH_HOME": str(tmp_path)}
    winners = []
    for round_ in range(10):
        name = f"claude-watch-race-{os.getpid()}-{round_}"
        start_at = time.time() + 1.5  # enough for four interpreters to import PySide6
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CLAIMANT, name, str(start_at)],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(4)
        ]
        outcomes = [p.communicate(timeout=60)[0].strip() for p in procs]
        winners.append(outcomes.count("won"))
    assert winners == [1] * 10
