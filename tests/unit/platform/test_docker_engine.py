"""The Docker Engine API client without an engine: where the socket is, the multiplexed frames,
the container body, and the clear errors when nothing (or the wrong thing) answers. A real dead
socket, a real socket this user may not open (a child process as ``nobody`` when we are root),
and a loopback stand-in that speaks HTTP over a unix socket with hostile answers (labelled as such:
it only feeds the client bad bytes; the real engine is in tests/integration/test_agent_containers.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from pathlib import Path

import pytest

from tests.helpers.fake_keyring import MemoryKeyring
from trayapp.core.agents import QueuePolicy, TaskSpec, TaskState
from trayapp.core.container_slots import ContainerSlot
from trayapp.platform import docker_engine as de
from trayapp.platform import secrets as sec
from trayapp.services.agent_containers import ContainerExecutor, LineSplitter
from trayapp.services.agent_queue import AgentQueue
from trayapp.store.agents_repo import AgentsRepo


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">B3xI", stream, len(payload)) + payload


def test_socket_from_docker_host_default_or_podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert de.socket_path({"DOCKER_HOST": "unix:///tmp/x/docker.sock"}) == "/tmp/x/docker.sock"
    with pytest.raises(de.EngineUnavailable, match=r"DOCKER_HOST=tcp://\.\.\. is not supported"):
        de.socket_path({"DOCKER_HOST": "tcp://10.0.0.1:2375"})
    monkeypatch.setattr(de, "DEFAULT_SOCKET", str(tmp_path / "docker.sock"))
    assert de.socket_path({}) == str(tmp_path / "docker.sock")  # nothing anywhere: Docker's
    podman = tmp_path / "run" / "podman" / "podman.sock"
    podman.parent.mkdir(parents=True)
    podman.touch()
    assert de.socket_path({"XDG_RUNTIME_DIR": str(tmp_path / "run")}) == str(podman)
    (tmp_path / "docker.sock").touch()  # Docker's own socket wins when both exist
    assert de.socket_path({"XDG_RUNTIME_DIR": str(tmp_path / "run")}) == str(tmp_path / "docker.sock")


def test_frames_split_across_chunks_in_order() -> None:
    data = frame(1, b'{"type":"system"}\n') + frame(2, b"warn\n") + frame(1, b"x" * 70_000)
    demux = de.FrameDemuxer()
    got: list[tuple[int, bytes]] = []
    for i in range(0, len(data), 7):  # 7-byte chunks: headers and payloads cut anywhere
        got += demux.feed(data[i : i + 7])
    assert got == [(1, b'{"type":"system"}\n'), (2, b"warn\n"), (1, b"x" * 70_000)]
    assert demux.pending == 0


@pytest.mark.parametrize(
    "bad",
    [
        struct.pack(">B3xI", 7, 3) + b"abc",
        struct.pack(">B3xI", 1, de.MAX_FRAME + 1),
        b"plain text, no frames",
    ],
)
def test_a_stream_that_is_not_frames_is_refused(bad: bytes) -> None:
    with pytest.raises(de.EngineError, match="malformed"):
        list(de.FrameDemuxer().feed(bad))


def test_lines_are_split_and_a_runaway_line_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    import trayapp.services.agent_containers as ac

    monkeypatch.setattr(ac, "MAX_LINE", 1000)
    lines = LineSplitter()
    assert lines.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    assert lines.feed(b":2}\n") == [b'{"b":2}']
    out = lines.feed(b"y" * 1500)
    assert out == [b"y" * 200 + b" [line cut]"]
    assert lines.feed(b"yyy\nnext\n") == [b"next"]  # the rest of the runaway line is dropped
    assert lines.feed(b"tail") == []
    assert lines.end() == [b"tail"]


def test_the_container_body_is_unprivileged_and_hides_its_environment() -> None:
    spec = de.ContainerSpec(
        "img:1",
        ("-p", "hi"),
        "/w",
        binds=(("/w", "/w"),),
        env=(("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-secret"),),
        labels=((de.LABEL_TASK, "t-1"),),
        network="none",
        entrypoint=("claude",),
        user="1000:1000",
    )
    body = spec.body()
    assert body["HostConfig"]["Privileged"] is False
    assert body["HostConfig"]["Binds"] == ["/w:/w:rw"]  # nothing else of the host
    assert body["HostConfig"]["NetworkMode"] == "none"
    assert body["HostConfig"]["Init"] is True
    assert (body["Tty"], body["OpenStdin"]) == (False, False)
    assert (body["Entrypoint"], body["Cmd"], body["User"]) == (["claude"], ["-p", "hi"], "1000:1000")
    assert body["Labels"] == {"claude-watch.task": "t-1"}
    assert body["Env"] == ["CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-secret"]
    assert "secret" not in repr(spec)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('OCI runtime create failed: exec: "claude": executable file not found in $PATH: unknown', True),
        ("[FATAL tini (7)] exec claude failed: No such file or directory", True),
        ("executable file `claude` not found in $PATH: No such file or directory", True),
        ('exec: "/bin/sh": no such file or directory', False),
        ("cannot allocate memory", False),
    ],
)
def test_which_start_errors_mean_no_claude(message: str, expected: bool) -> None:
    assert de.says_no_claude(message) is expected


async def test_no_engine_says_start_docker_or_set_docker_host(tmp_path: Path) -> None:
    missing = de.DockerEngine(str(tmp_path / "none.sock"))
    with pytest.raises(de.EngineUnavailable) as caught:
        await missing.ping()
    assert str(caught.value) == (
        f"Docker is not running (no socket at {tmp_path / 'none.sock'}): "
        "start it (sudo systemctl start docker) or set DOCKER_HOST"
    )
    dead = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()  # the file stays, nobody listens: connection refused
    with pytest.raises(de.EngineUnavailable, match=r"nothing answers on .*dead\.sock.*set DOCKER_HOST"):
        await de.DockerEngine(str(dead)).version()
    await missing.aclose()


async def test_a_dead_docker_host_fails_the_task_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring_backend: MemoryKeyring
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'gone.sock'}")
    store = sec.SecretStore(backend=keyring_backend, timeout=5.0)
    store.set("claude-oauth-token", "sk-ant-oat01-abcdefgh")
    executor = ContainerExecutor([ContainerSlot("box", "claude-box:1", 1, "none")], secrets=store)
    folder = tmp_path / "project"
    folder.mkdir()
    q = AgentQueue(
        AgentsRepo(tmp_path / "agents.sqlite3"), policy=QueuePolicy(default_cap=1), logs=tmp_path / "logs"
    )
    q.register_executor("docker", executor, executor.queue_slots())
    await q.start()
    try:
        task = await q.submit(TaskSpec(prompt="hi", folder=str(folder), slot="docker:box"))
        for _ in range(200):
            current = q.get(task.id)
            if current is not None and current.state is TaskState.FAILED:
                break
            await asyncio.sleep(0.02)
        failed = q.get(task.id)
        assert failed is not None
        assert failed.state is TaskState.FAILED
        assert failed.error == (
            f"Docker is not running (no socket at {tmp_path / 'gone.sock'}): "
            "start it (sudo systemctl start docker) or set DOCKER_HOST"
        )
    finally:
        await q.stop_all()
        q.repo.close()
        await executor.aclose()


def _ping_as(path: Path, uid: int | None) -> str:
    """Ping ``path`` in a forked child (as ``uid`` when given: root opens any socket); the
    error's class and message."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no exec, the modules are loaded already
        code = 0
        try:
            os.close(read_end)
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            try:
                asyncio.run(de.DockerEngine(str(path)).ping())
                text = "answered"
            except de.DockerError as exc:
                text = f"{type(exc).__name__} {exc}"
            os.write(write_end, text.encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        out = fh.read().decode()
    os.waitpid(pid, 0)
    return out


def test_a_socket_we_may_not_open_says_so(tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(path))
        listener.listen(1)
        tmp_path.chmod(0o755)
        if os.geteuid() == 0:
            path.chmod(0o600)
            out = _ping_as(path, 65534)  # nobody
        else:
            path.chmod(0o000)
            out = _ping_as(path, None)
    finally:
        listener.close()
    assert out.startswith(f"EnginePermissionDenied permission denied on the Docker socket {path}: "), out
    assert "docker group" in out


class StandIn:
    """A loopback stand-in, NOT an engine: answers every request on a unix socket with one canned
    HTTP response, to feed the client hostile bytes."""

    def __init__(self, path: Path, head: bytes, body: bytes) -> None:
        self.path, self.head, self.body = path, head, body
        self.server: asyncio.AbstractServer | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.head + b"\r\n\r\n" + self.body)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> StandIn:
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "standin.sock"


async def test_hostile_answers_are_refused_with_typed_errors(sock: Path) -> None:
    huge = b"x" * (de.MAX_BODY + 10)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d" % len(huge)
    async with StandIn(sock, head, huge):
        with pytest.raises(de.EngineError, match="too large"):
            await de.DockerEngine(str(sock)).version()
    sock.unlink()
    async with StandIn(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 9", b"not json!"):
        with pytest.raises(de.EngineError, match="not JSON"):
            await de.DockerEngine(str(sock)).version()
    sock.unlink()
    garbage = b"this is not a multiplexed stream at all"
    async with StandIn(sock, b"HTTP/1.1 200 OK\r\nContent-Length: %d" % len(garbage), garbage):
        with pytest.raises(de.EngineError, match="malformed"):
            async for _ in de.DockerEngine(str(sock)).logs("abc"):
                pass
    sock.unlink()
    async with StandIn(sock, b"HTTP/1.1 201 Created\r\nContent-Length: 5", b"{nope"):
        with pytest.raises(de.EngineError, match="container create is not JSON"):
            await de.DockerEngine(str(sock)).create(de.ContainerSpec("img", (), "/"))
    sock.unlink()
    async with StandIn(sock, b"SSH-2.0-OpenSSH_9.2", b"not http at all"):
        with pytest.raises(de.DockerError):  # typed, whatever the socket turns out to be
            await de.DockerEngine(str(sock)).inspect("abc")
    sock.unlink()
    long_error = b'{"message": "' + b"no " * 400 + b'"}'
    async with StandIn(sock, b"HTTP/1.1 500 Oops\r\nContent-Length: %d" % len(long_error), long_error):
        with pytest.raises(de.EngineError) as caught:
            await de.DockerEngine(str(sock)).start("abc")
    assert len(str(caught.value)) < de.MAX_ERROR + 40
    assert caught.value.status == 500
