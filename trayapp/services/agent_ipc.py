"""The agents' requests from the command line, served by the running app over the single-instance
socket (``claude-watch agents run|list|stop|restart|queue|logs``).

:func:`serve_agents` turns the app's :class:`~trayapp.services.agent_queue.AgentQueue` into a
request handler for :meth:`SingleInstance.add_handler("agents", ...)
<trayapp.platform.single_instance.SingleInstance.add_handler>`. Ops (``agents.<name>``, the rest
of the request is its arguments):

============== ================================= ===========================================
op             arguments                         answer (besides ``"ok": true``)
============== ================================= ===========================================
``run``        ``spec`` (a TaskSpec as JSON)     ``task``
``list``       ``all`` (bool)                    ``tasks`` (unfinished and the last 24 h)
``get``        ``id``                            ``task``
``stop``       ``id``, ``force`` (bool)          ``task``
``restart``    ``id``                            ``task`` (the new one, resuming the session)
``queue``      (none)                            ``tasks`` (queued, held, running), ``slots``
``logs-path``  ``id``                            ``path``
============== ================================= ===========================================

Requests arrive on the GUI thread; the quick ones are answered at once from the queue's
in-memory list, the others run as tasks (:func:`trayapp.runtime.spawn`) and answer when done.
An unknown task id is ``not_found``, a request the queue refuses (stopping a finished task) is
``refused`` with the queue's reason; anything else is logged and answered ``internal``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from trayapp import runtime
from trayapp.core.agents import ACTIVE, FINISHED, Task
from trayapp.platform.ipc_protocol import ProtocolError, error
from trayapp.services.agent_ipc_codec import spec_from_json, task_to_json, visible
from trayapp.services.agent_queue import AgentError

if TYPE_CHECKING:
    from trayapp.services.agent_queue import AgentQueue

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
Handler = Callable[[dict[str, Any], Reply], None]


def serve_agents(queue: AgentQueue) -> Handler:
    """The handler for requests whose op starts with ``agents.``."""

    def handle(request: dict[str, Any], reply: Reply) -> None:
        op = str(request.get("op", "")).partition(".")[2]
        try:
            if op in _QUICK:
                reply({"ok": True, **_QUICK[op](queue, request)})
                return
            slow = _SLOW.get(op)
            if slow is None:
                raise ProtocolError("unknown_op", f"unknown op agents.{op} (known: {', '.join(OPS)})")
            runtime.spawn(_answer(slow(queue, request), reply, op), name=f"agents.{op}", group=queue)
        except ProtocolError as exc:
            reply(error(exc.code, exc.message))
        except LookupError as exc:
            reply(error("not_found", _why(exc, "no such task")))

    return handle


async def _answer(work: Awaitable[dict[str, Any]], reply: Reply, op: str) -> None:
    try:
        reply({"ok": True, **(await work)})
    except ProtocolError as exc:
        reply(error(exc.code, exc.message))
    except LookupError as exc:
        reply(error("not_found", _why(exc, "no such task")))
    except (AgentError, ValueError) as exc:
        reply(error("refused", _why(exc, "the queue refused this")))
    except Exception:
        log.exception("agents.%s failed", op)
        reply(error("internal", f"agents.{op} failed in the app (see its log)"))


def _why(exc: Exception, fallback: str) -> str:
    text = str(exc.args[0]) if exc.args else ""
    return text or fallback


def _task_id(request: dict[str, Any]) -> str:
    value = request.get("id")
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ProtocolError("bad_request", '"id" must be a task id such as "t-7f3a9c"')
    return value


def _known(queue: AgentQueue, request: dict[str, Any]) -> Task:
    task_id = _task_id(request)
    task = queue.get(task_id)
    if task is None:
        raise ProtocolError("not_found", f"no task {task_id}")
    return task


def _flag(request: dict[str, Any], name: str) -> bool:
    value = request.get(name, False)
    if not isinstance(value, bool):
        raise ProtocolError("bad_request", f'"{name}" must be true or false')
    return value


def _list(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    tasks = visible(queue.tasks(), datetime.now(UTC), include_all=_flag(request, "all"))
    return {"tasks": [task_to_json(t) for t in tasks]}


def _get(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    return {"task": task_to_json(_known(queue, request))}


def _queue(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    waiting = [t for t in queue.tasks() if t.state not in FINISHED]
    slots = [{"name": s.name, "cap": s.cap} for s in queue.slots]
    active = {s["name"]: sum(t.state in ACTIVE and t.slot == s["name"] for t in waiting) for s in slots}
    return {
        "tasks": [task_to_json(t) for t in visible(waiting, datetime.now(UTC))],
        "slots": [{**s, "running": active[s["name"]]} for s in slots],
    }


def _logs_path(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    task = _known(queue, request)
    return {"path": str(queue.log_path(task.id))}


async def _run(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    spec = spec_from_json(request.get("spec"))
    return {"task": task_to_json(await queue.submit(spec))}


async def _stop(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    task = _known(queue, request)
    return {"task": task_to_json(await queue.stop(task.id, force=_flag(request, "force")))}


async def _restart(queue: AgentQueue, request: dict[str, Any]) -> dict[str, Any]:
    task = _known(queue, request)
    return {"task": task_to_json(await queue.restart(task.id))}


_QUICK: dict[str, Callable[[AgentQueue, dict[str, Any]], dict[str, Any]]] = {
    "list": _list,
    "get": _get,
    "queue": _queue,
    "logs-path": _logs_path,
}
_SLOW: dict[str, Callable[[AgentQueue, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "run": _run,
    "stop": _stop,
    "restart": _restart,
}
OPS = (*_SLOW, *_QUICK)
