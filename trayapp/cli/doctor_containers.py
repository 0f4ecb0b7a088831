"""``doctor``'s containers section (issue 14, agents in containers): with container slots
configured, whether the token is stored, whether the engine answers, and for each slot whether its
image is there and its ``claude --version`` runs (a throwaway container, no network). Each problem
is a failure with what to do; with no slots configured it is one line of information and no
engine is asked. Time-limited like every doctor probe."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trayapp.cli.doctor import Check
    from trayapp.core.container_slots import ContainerSlot

TIMEOUT = 30.0


def checks(now: datetime) -> list[Check]:
    from trayapp.cli.doctor import FAIL, INFO, OK, Check
    from trayapp.platform import secrets as sec
    from trayapp.services.agent_containers import NO_TOKEN, TOKEN_SECRET, slots_from_settings
    from trayapp.settings import load

    slots = slots_from_settings(load().get)
    if not slots:
        return [Check("Containers", INFO, "no container slots (agents.container_slots)")]
    out: list[Check] = []
    status = sec.default_store().status(TOKEN_SECRET)
    if status.is_set:
        out.append(Check("Container token", OK, f"set ({status.origin})"))
    else:
        out.append(Check("Container token", FAIL, status.origin or NO_TOKEN.reason, NO_TOKEN.fix))
    try:
        out += asyncio.run(asyncio.wait_for(_engine_checks(slots), TIMEOUT))
    except TimeoutError:
        out.append(
            Check("Docker engine", FAIL, f"no answer within {TIMEOUT:g} s", "check that the engine runs")
        )
    return out


async def _engine_checks(slots: list[ContainerSlot]) -> list[Check]:
    from trayapp.cli.doctor import FAIL, OK, Check
    from trayapp.platform import docker_engine as de
    from trayapp.services.agent_containers import ContainerExecutor

    executor = ContainerExecutor(slots)
    out: list[Check] = []
    try:
        try:
            await executor.engine.ping()
            info = await executor.engine.version()
        except de.DockerError as exc:
            return [Check("Docker engine", FAIL, exc.reason, exc.fix)]
        out.append(
            Check(
                "Docker engine",
                OK,
                f"{info.name} {info.version} (API {info.api_version}) at {executor.engine.socket}",
            )
        )
        for slot in slots:
            name = f"Slot {slot.slot_name}"
            try:
                version = await executor.check(slot.image)
            except de.DockerError as exc:
                out.append(Check(name, FAIL, exc.reason, exc.fix))
                continue
            out.append(
                Check(
                    name,
                    OK,
                    f"{slot.image}, up to {slot.cap} at once, network {slot.network}: claude {version}",
                )
            )
    finally:
        await executor.aclose()
    return out
