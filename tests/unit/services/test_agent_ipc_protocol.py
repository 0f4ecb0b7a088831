"""The line-JSON protocol over the real single-instance socket: the CLI's plain-socket client
against a real ``QLocalServer`` (``SingleInstance``), bad lines answered with typed errors, the
socket user-only, ``show`` still working."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import pytest

from trayapp import runtime
from trayapp.platform import ipc_client
from trayapp.platform.ipc_client import AppNotRunning, IpcError, request
from trayapp.platform.ipc_protocol import MAX_REQUEST, VERSION, socket_path
from trayapp.platform.single_instance import SingleInstance, server_name


@pytest.fixture
def instance(qtbot):
    inst = SingleInstance(server_name() + "-ipc")
    assert inst.claim()
    yield inst
    inst.close()


def _ask(qtbot, fn, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking client call on a worker lane while the Qt loop serves it."""
    future = runtime.submit(fn, *args, **kwargs)
    qtbot.waitUntil(future.done, timeout=10000)
    return future.result()


def _raw(path: str, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes or a line arrives."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(data)
        got = b""
        while b"\n" not in got:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def _echo(request: dict[str, Any], reply) -> None:  # type: ignore[no-untyped-def]
    reply({"ok": True, "echo": request})


def test_socket_path_is_where_qt_listens(instance) -> None:
    assert socket_path(instance.name) == instance.server.fullServerName()
    if sys.platform != "win32":
        st = os.stat(socket_path(instance.name))
        assert st.st_mode & 0o077 == 0  # only the user may connect


def test_socket_path_follows_tmpdir_like_qt(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path) + "/")
    assert socket_path("n") == f"{tmp_path}/n"
    assert socket_path("/abs/name") == "/abs/name"


def test_a_registered_handler_answers(qtbot, instance) -> None:
    instance.add_handler("agents", _echo)
    reply = _ask(qtbot, request, "agents.list", {"all": True}, name=instance.name)
    assert reply["ok"] is True
    assert reply["v"] == VERSION
    assert reply["echo"] == {"v": VERSION, "op": "agents.list", "all": True}


def test_a_late_answer_arrives(qtbot, instance) -> None:
    from PySide6.QtCore import QTimer

    instance.add_handler("agents", lambda req, reply: QTimer.singleShot(200, lambda: reply({"ok": True})))
    assert _ask(qtbot, request, "agents.run", name=instance.name) == {"v": VERSION, "ok": True}


def test_unknown_op_is_an_error(qtbot, instance) -> None:
    instance.add_handler("agents", _echo)
    reply = _ask(qtbot, request, "jobs.list", name=instance.name)
    assert reply["ok"] is False
    assert reply["error"] == "unknown_op"


def test_removed_handler_no_longer_serves(qtbot, instance) -> None:
    remove = instance.add_handler("agents", _echo)
    remove()
    assert _ask(qtbot, request, "agents.list", name=instance.name)["error"] == "unknown_op"


def test_a_failing_handler_is_an_internal_error_not_fatal(qtbot, instance, caplog) -> None:
    def boom(request, reply) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("handler bug")

    instance.add_handler("agents", boom)
    assert _ask(qtbot, request, "agents.list", name=instance.name)["error"] == "internal"
    instance.add_handler("agents", _echo)
    assert _ask(qtbot, request, "agents.list", name=instance.name)["ok"] is True


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{not json\n", "bad_json"),
        (b"[1, 2]\n", "bad_json"),
        (b'{"op": "agents.list"}\n', "version"),
        (b'{"v": 2, "op": "agents.list"}\n', "version"),
        (b'{"v": true, "op": "agents.list"}\n', "version"),
        (b'{"v": 1, "op": 5}\n', "bad_request"),
        (b'{"v": 1}\n', "bad_request"),
    ],
)
def test_bad_requests_get_typed_errors(qtbot, instance, line: bytes, code: str) -> None:
    instance.add_handler("agents", _echo)
    got = _ask(qtbot, _raw, socket_path(instance.name), line)
    assert got.endswith(b"\n")
    body = json.loads(got)
    assert body["ok"] is False
    assert body["error"] == code, body


def test_an_oversized_request_is_cut_off(qtbot, instance) -> None:
    instance.add_handler("agents", _echo)
    huge = b'{"v": 1, "op": "agents.run", "x": "' + b"a" * MAX_REQUEST
    got = _ask(qtbot, _raw, socket_path(instance.name), huge)
    assert json.loads(got)["error"] == "too_large"
    # the app still serves others
    assert _ask(qtbot, request, "agents.list", name=instance.name)["ok"] is True


def test_show_still_activates(qtbot, instance) -> None:
    with qtbot.waitSignal(instance.activation_requested, timeout=3000):
        _ask(qtbot, _send_only, socket_path(instance.name), b"show\n")


def _send_only(path: str, data: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(data)


def test_no_app_means_app_not_running(tmp_path) -> None:
    with pytest.raises(AppNotRunning):
        request("agents.list", name=str(tmp_path / "nobody"))
    stale = tmp_path / "stale"  # a socket file left by a crash: nobody listens
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(stale))
    sock.close()
    with pytest.raises(AppNotRunning):
        request("agents.list", name=str(stale))


def test_a_socket_of_another_user_is_refused(qtbot, instance, monkeypatch) -> None:
    instance.add_handler("agents", _echo)
    other = os.getuid() + 1
    monkeypatch.setattr(ipc_client.os, "getuid", lambda: other)
    with pytest.raises(IpcError) as caught:
        request("agents.list", name=instance.name)
    assert caught.value.code == "forbidden"


def test_a_silent_app_times_out(tmp_path) -> None:
    path = str(tmp_path / "silent")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with pytest.raises(IpcError) as caught:
            request("agents.list", name=path, timeout=0.3)
    assert caught.value.code == "timeout"


AS_NOBODY = [
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as another user"
    ),
    pytest.mark.skipif(
        not os.path.exists("/usr/bin/python3"), reason="needs a system python another user can run"
    ),
]


def _as_nobody(qtbot, code: str, *args: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """Run ``code`` as the user nobody (a system python it may execute) while the loop serves."""
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        user=65534,
        group=65534,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=15000)
    return proc.communicate()


@AS_NOBODY[0]
@AS_NOBODY[1]
def test_another_user_cannot_connect(qtbot, instance) -> None:
    instance.add_handler("agents", _echo)
    code = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "    print('connected')\n"
        "except PermissionError:\n"
        "    print('denied')\n"
    )
    out, err = _as_nobody(qtbot, code, socket_path(instance.name))
    assert out.strip() == b"denied", err


@AS_NOBODY[0]
@AS_NOBODY[1]
def test_another_users_request_is_refused_even_through_an_open_socket(qtbot, instance) -> None:
    """Defence in depth: were the socket file opened up (a umask, a copy), the app still asks the
    kernel who is calling and refuses other users."""
    instance.add_handler("agents", _echo)
    os.chmod(socket_path(instance.name), 0o777)
    code = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.settimeout(10)\n"
        "s.connect(sys.argv[1])\n"
        's.sendall(b\'{"v": 1, "op": "agents.list"}\\n\')\n'
        "print(s.recv(4096).decode().strip())\n"
    )
    out, err = _as_nobody(qtbot, code, socket_path(instance.name))
    assert json.loads(out)["error"] == "forbidden", err
