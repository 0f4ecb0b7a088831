"""A small client for the Docker Engine API over its unix socket (Podman's Docker-compatible socket
answers the same calls), for running agents in containers.

Only what the container executor needs: ping and version, image inspect, container create, start,
logs (followed), wait, inspect, list, stop, kill and remove. It speaks HTTP over the socket with
httpx's unix-socket transport (already a dependency), so nothing else is installed and nothing
blocks the loop. The socket is ``DOCKER_HOST`` (``unix://`` only), else ``/var/run/docker.sock``,
else Podman's ``$XDG_RUNTIME_DIR/podman/podman.sock`` when only that one exists.

Output comes through ``GET /containers/{id}/logs?follow=1`` rather than ``attach``: attach hijacks
the HTTP connection, which httpx cannot hand over, while logs stream as an ordinary chunked
response and replay from the container's start, so nothing printed before the call is lost.
Without a TTY the engine multiplexes stdout and stderr into frames (an 8-byte header: stream
type, three zero bytes, a big-endian length); :class:`FrameDemuxer` splits them.

Every failure is a typed :class:`DockerError` whose message says what to do (no engine, a socket
we may not open, a missing image, an image without ``claude``). The engine's answers are
untrusted: bodies are size-capped, frames too, and error texts are cut to one short line.
Request bodies are never logged (a container's environment carries the user's token).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_SOCKET = "/var/run/docker.sock"
MAX_BODY = 1024 * 1024  # bytes of a non-streaming answer; more is refused
MAX_FRAME = 16 * 1024 * 1024  # bytes one multiplexed frame may claim
MAX_ERROR = 300  # characters of the engine's error message kept
STDOUT, STDERR = 1, 2
LABEL_TASK = "claude-watch.task"

NO_ENGINE_FIX = "start it (sudo systemctl start docker) or set DOCKER_HOST"


class DockerError(RuntimeError):
    """An engine call failed; ``reason`` is what went wrong and ``fix`` what to do (``str()`` says
    both). The message never holds a request body."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(f"{reason}: {fix}" if fix else reason)
        self.reason = reason
        self.fix = fix


class EngineUnavailable(DockerError):
    """No engine answers on the socket (missing, refused, or not a unix socket address)."""


class EnginePermissionDenied(DockerError):
    """The socket exists but this user may not open it."""


class ImageMissing(DockerError):
    """The image is not on the engine (no registry is asked: pulling is the user's choice)."""


class ClaudeMissing(DockerError):
    """The image has no ``claude`` on its PATH."""


class TokenMissing(DockerError):
    """No long-lived Claude Code token is stored for containers."""


class EngineError(DockerError):
    """Any other answer the engine refused with (``status`` is the HTTP status)."""

    def __init__(self, reason: str, fix: str = "", status: int = 0) -> None:
        super().__init__(reason, fix)
        self.status = status


def no_engine(detail: str) -> EngineUnavailable:
    return EngineUnavailable(f"Docker is not running ({detail})", NO_ENGINE_FIX)


def image_missing(image: str) -> ImageMissing:
    return ImageMissing(
        f"the image {image} is not on this Docker engine", f"docker pull {image}, or build it"
    )


def claude_missing(image: str) -> ClaudeMissing:
    return ClaudeMissing(
        f"the image {image} has no claude on PATH", "install @anthropic-ai/claude-code in it"
    )


def socket_path(env: dict[str, str] | None = None) -> str:
    """The engine's socket: ``DOCKER_HOST`` (``unix://PATH``), else Docker's default, else Podman's
    rootless socket when only that one exists. A ``tcp://`` or ``ssh://`` host is refused."""
    env = dict(os.environ) if env is None else env
    host = env.get("DOCKER_HOST", "").strip()
    if host:
        if not host.startswith("unix://"):
            raise EngineUnavailable(
                f"DOCKER_HOST={host.split('://', 1)[0]}://... is not supported (unix sockets only)",
                "point DOCKER_HOST at the engine's socket (unix:///var/run/docker.sock)",
            )
        return host.removeprefix("unix://")
    if not Path(DEFAULT_SOCKET).exists():
        runtime_dir = env.get("XDG_RUNTIME_DIR", "")
        podman = Path(runtime_dir, "podman", "podman.sock") if runtime_dir else None
        if podman is not None and podman.exists():
            return str(podman)
    return DEFAULT_SOCKET


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR else line[: MAX_ERROR - 1] + "…"


def _engine_message(body: bytes) -> str:
    """The engine's ``{"message": ...}`` (or the raw text), cut to one short line."""
    try:
        data = json.loads(body[:MAX_BODY])
    except ValueError:
        return _short(body[:MAX_BODY].decode("utf-8", "replace"))
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return _short(data["message"])
    return _short(str(data))


def _loads(data: bytes, what: str) -> Any:
    """An answer's JSON (None when empty), or :class:`EngineError`."""
    try:
        return json.loads(data) if data else None
    except ValueError:
        raise EngineError(f"the engine's answer to {what} is not JSON") from None


def says_no_claude(message: str) -> bool:
    """Whether a start error means the entrypoint ``claude`` is not in the image (runc, crun and
    Podman word it differently)."""
    low = message.lower()
    return "claude" in low and (
        "not found in $path" in low
        or "no such file or directory" in low
        or "executable file not found" in low
    )


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container to create. ``env`` is left out of ``repr`` (it carries the token)."""

    image: str
    cmd: tuple[str, ...]
    workdir: str
    binds: tuple[tuple[str, str], ...] = ()  # (host path, container path), read-write
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    labels: tuple[tuple[str, str], ...] = ()
    network: str = "bridge"
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None
    init: bool = True  # a tiny init as PID 1: signals reach claude, zombies are reaped

    def body(self) -> dict[str, Any]:
        """The ``POST /containers/create`` body: no TTY, no stdin, not privileged, only the binds
        named here, json-file logs capped (the engine keeps them until we remove the container)."""
        body: dict[str, Any] = {
            "Image": self.image,
            "Cmd": list(self.cmd),
            "WorkingDir": self.workdir,
            "Env": [f"{k}={v}" for k, v in self.env],
            "Labels": dict(self.labels),
            "Tty": False,
            "OpenStdin": False,
            "AttachStdin": False,
            "AttachStdout": True,
            "AttachStderr": True,
            "HostConfig": {
                "Binds": [f"{host}:{inside}:rw" for host, inside in self.binds],
                "NetworkMode": self.network,
                "Privileged": False,
                "AutoRemove": False,
                "Init": self.init,
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "64m", "max-file": "1"}},
            },
        }
        if self.entrypoint is not None:
            body["Entrypoint"] = list(self.entrypoint)
        if self.user:
            body["User"] = self.user
        return body


@dataclass(frozen=True, slots=True)
class EngineInfo:
    version: str
    api_version: str
    os: str = ""
    name: str = "Docker"  # "Podman" when the engine says so


@dataclass(frozen=True, slots=True)
class ContainerState:
    id: str
    running: bool
    status: str  # created, running, exited, ...
    exit_code: int | None


class FrameDemuxer:
    """Splits the engine's multiplexed stream into ``(stream, payload)`` frames, across chunk
    boundaries. A frame claiming more than :data:`MAX_FRAME` bytes or an unknown stream type
    means the stream is not what it should be: :class:`EngineError`."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> Iterator[tuple[int, bytes]]:
        self._buf += chunk
        while len(self._buf) >= 8:
            kind, size = struct.unpack(">B3xI", self._buf[:8])
            if kind not in (0, STDOUT, STDERR) or size > MAX_FRAME:
                raise EngineError("the engine's output stream is malformed (not multiplexed frames)")
            if len(self._buf) < 8 + size:
                return
            payload = bytes(self._buf[8 : 8 + size])
            del self._buf[: 8 + size]
            yield (STDOUT if kind == 0 else kind), payload

    @property
    def pending(self) -> int:
        return len(self._buf)


class DockerEngine:
    """An engine client; one per executor (it keeps a connection pool). ``socket`` None: from
    :func:`socket_path`, read when the client is made."""

    def __init__(self, socket: str | None = None, timeout: float = 15.0) -> None:
        self.socket = socket if socket is not None else socket_path()
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = httpx.AsyncHTTPTransport(uds=self.socket)
            self._client = httpx.AsyncClient(
                transport=transport, base_url="http://docker", timeout=self.timeout
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _unreachable(self, exc: Exception) -> DockerError:
        chain: list[BaseException] = []
        cur: BaseException | None = exc
        while cur is not None and len(chain) < 6:
            chain.append(cur)
            cur = cur.__cause__ or cur.__context__
        text = " ".join(str(e) for e in chain).lower()
        if any(isinstance(e, PermissionError) for e in chain) or "permission denied" in text:
            return EnginePermissionDenied(
                f"permission denied on the Docker socket {self.socket}",
                "add yourself to the docker group (sudo usermod -aG docker $USER, then log in again) "
                "or set DOCKER_HOST to a socket you may use (Podman: unix://$XDG_RUNTIME_DIR/podman/podman.sock)",
            )
        if not Path(self.socket).exists():
            return no_engine(f"no socket at {self.socket}")
        return no_engine(f"nothing answers on {self.socket}")

    async def _request(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, timeout: float | None = -1.0
    ) -> tuple[int, bytes]:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["content"] = json.dumps(body).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        if timeout != -1.0:
            kwargs["timeout"] = httpx.Timeout(self.timeout, read=timeout)
        try:
            async with self._http().stream(method, path, **kwargs) as resp:
                data = bytearray()
                async for chunk in resp.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_BODY:
                        raise EngineError(
                            f"the engine's answer to {method} {path.split('?')[0]} is too large"
                        )
                return resp.status_code, bytes(data)
        except (httpx.ConnectError, httpx.RemoteProtocolError, FileNotFoundError, PermissionError) as exc:
            raise self._unreachable(exc) from None
        except httpx.TimeoutException:
            raise EngineError(f"the engine did not answer {method} {path.split('?')[0]} in time") from None
        except httpx.HTTPError as exc:  # the connection broke, or a reply that is not HTTP
            raise EngineError(f"talking to the engine failed ({type(exc).__name__})") from None

    async def _json(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        status, data = await self._request(method, path, **kw)
        if status not in ok:
            raise EngineError(f"{method} {path.split('?')[0]}: {_engine_message(data)}", status=status)
        return _loads(data, f"{method} {path.split('?')[0]}")

    async def ping(self) -> bool:
        """True when the engine answers ``/_ping`` (a typed error otherwise)."""
        status, data = await self._request("GET", "/_ping")
        if status != 200:
            raise no_engine(f"/_ping answered {status}")
        return data.strip() == b"OK"

    async def version(self) -> EngineInfo:
        data = await self._json("GET", "/version")
        if not isinstance(data, dict):
            raise EngineError("the engine's version answer is not an object")
        components = data.get("Components")
        name = "Docker"
        if isinstance(components, list) and any(
            isinstance(c, dict) and "podman" in str(c.get("Name", "")).lower() for c in components
        ):
            name = "Podman"
        return EngineInfo(
            str(data.get("Version", "")), str(data.get("ApiVersion", "")), str(data.get("Os", "")), name
        )

    async def image_inspect(self, image: str) -> dict[str, Any]:
        status, data = await self._request("GET", f"/images/{quote(image, safe='/:@')}/json")
        if status == 404:
            raise image_missing(image)
        if status != 200:
            raise EngineError(f"inspecting {image}: {_engine_message(data)}", status=status)
        found = _loads(data, "image inspect")
        if not isinstance(found, dict):
            raise EngineError(f"the engine's answer about {image} is not an object")
        return found

    async def create(self, spec: ContainerSpec, name: str | None = None) -> str:
        """Create (not start) the container; its id. A missing image is :class:`ImageMissing`."""
        path = "/containers/create" + (f"?name={quote(name, safe='')}" if name else "")
        status, data = await self._request("POST", path, body=spec.body())
        if status == 404:
            raise image_missing(spec.image)
        if status != 201:
            raise EngineError(
                f"creating a container from {spec.image}: {_engine_message(data)}", status=status
            )
        found = _loads(data, "container create")
        cid = found.get("Id") if isinstance(found, dict) else None
        if not isinstance(cid, str) or not cid:
            raise EngineError("the engine created a container but gave no id")
        return cid

    async def start(self, cid: str, image: str = "") -> None:
        """Start the container; an entrypoint the image does not have is :class:`ClaudeMissing`."""
        status, data = await self._request("POST", f"/containers/{cid}/start")
        if status in (204, 304):
            return
        message = _engine_message(data)
        if says_no_claude(message):
            raise claude_missing(image or "the image")
        raise EngineError(f"starting the container: {message}", status=status)

    async def logs(self, cid: str, *, follow: bool = True) -> AsyncIterator[tuple[int, bytes]]:
        """The container's output as ``(STDOUT|STDERR, bytes)`` frames, from its start; with
        ``follow`` until it exits. No read timeout: a quiet agent is not a dead one."""
        path = f"/containers/{cid}/logs?stdout=1&stderr=1&follow={int(follow)}"
        demux = FrameDemuxer()
        try:
            async with self._http().stream(
                "GET", path, timeout=httpx.Timeout(self.timeout, read=None)
            ) as resp:
                if resp.status_code != 200:
                    body = await resp.aread()
                    raise EngineError(
                        f"reading the container's output: {_engine_message(body)}", status=resp.status_code
                    )
                async for chunk in resp.aiter_raw():
                    for frame in demux.feed(chunk):
                        yield frame
        except (httpx.ConnectError, FileNotFoundError, PermissionError) as exc:
            raise self._unreachable(exc) from None
        except httpx.HTTPError as exc:
            raise EngineError(f"the container's output stream broke ({type(exc).__name__})") from None

    async def wait(self, cid: str) -> int:
        """Block (without a read timeout) until the container exits; its exit status."""
        data = await self._json("POST", f"/containers/{cid}/wait", timeout=None)
        code = data.get("StatusCode") if isinstance(data, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise EngineError("the engine's wait answer has no exit status")
        return code

    async def inspect(self, cid: str) -> ContainerState | None:
        """The container's state, or None when it does not exist (any more)."""
        status, data = await self._request("GET", f"/containers/{cid}/json")
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"inspecting the container: {_engine_message(data)}", status=status)
        found = _loads(data, "container inspect")
        state = found.get("State") if isinstance(found, dict) else None
        if not isinstance(state, dict):
            raise EngineError("the engine's container answer has no state")
        code = state.get("ExitCode")
        return ContainerState(
            str(found.get("Id", cid)),
            state.get("Running") is True,
            str(state.get("Status", "")),
            code if isinstance(code, int) and not isinstance(code, bool) else None,
        )

    async def containers(self, label: str, *, all: bool = True) -> list[str]:
        """Ids of the containers carrying ``label`` (``key`` or ``key=value``)."""
        filters = quote(json.dumps({"label": [label]}), safe="")
        data = await self._json("GET", f"/containers/json?all={int(all)}&filters={filters}")
        if not isinstance(data, list):
            raise EngineError("the engine's container list is not a list")
        return [str(c["Id"]) for c in data if isinstance(c, dict) and isinstance(c.get("Id"), str)]

    async def stop(self, cid: str, timeout: int = 10) -> None:
        """SIGTERM, then the engine's own SIGKILL after ``timeout`` seconds. Already stopped or gone
        is fine."""
        status, data = await self._request(
            "POST", f"/containers/{cid}/stop?t={int(timeout)}", timeout=timeout + 30.0
        )
        if status not in (204, 304, 404):
            raise EngineError(f"stopping the container: {_engine_message(data)}", status=status)

    async def kill(self, cid: str, signal: str = "KILL") -> None:
        status, data = await self._request("POST", f"/containers/{cid}/kill?signal={quote(signal)}")
        if status not in (204, 404, 409):  # 409: not running
            raise EngineError(f"killing the container: {_engine_message(data)}", status=status)

    async def remove(self, cid: str, *, force: bool = True) -> None:
        status, data = await self._request("DELETE", f"/containers/{cid}?force={int(force)}&v=1")
        if status not in (204, 404, 409):  # 409: removal already in progress
            raise EngineError(f"removing the container: {_engine_message(data)}", status=status)
