"""Container slots from the ``agents.container_slots`` setting (core.container_slots) and the
setting's validation through the real settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from trayapp import settings as settings_mod
from trayapp.core.agents import QueuePolicy, Slot
from trayapp.core.container_slots import ContainerSlot, parse_slot, parse_slots
from trayapp.services.agent_containers import attach_containers
from trayapp.services.agent_queue import AgentQueue
from trayapp.settings import SettingsError
from trayapp.store.agents_repo import AgentsRepo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("box=claude-box:latest:2", ContainerSlot("box", "claude-box:latest", 2, "bridge")),
        ("box=claude-box:2", ContainerSlot("box", "claude-box", 2, "bridge")),
        (" sealed = ghcr.io/me/cc:1.2:1@none ", ContainerSlot("sealed", "ghcr.io/me/cc:1.2", 1, "none")),
        ("d=img@sha256:abcd:3", ContainerSlot("d", "img@sha256:abcd", 3, "bridge")),
        ("d=img@sha256:abcd:3@my-net", ContainerSlot("d", "img@sha256:abcd", 3, "my-net")),
        ("n1.x_y=node:22:8", ContainerSlot("n1.x_y", "node:22", 8, "bridge")),
    ],
)
def test_a_slot_is_name_image_cap_and_an_optional_network(text: str, expected: ContainerSlot) -> None:
    slot = parse_slot(text)
    assert slot == expected
    assert slot.slot() == Slot(f"docker:{expected.name}", expected.cap, expected.image)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("claude-box:latest:2", "NAME=IMAGE:CAP"),
        ("box=node:22", "the cap 22 is not between 1 and 8"),  # the tag read as the cap: refused
        ("box=node", "the cap is missing"),
        ("box=node:latest", "the cap is missing"),
        ("box=node:0", "not between 1 and 8"),
        ("Box=node:1", "slot name"),
        ("b x=node:1", "slot name"),
        ("box=no de:1", "not an image name"),
        ("box=:1", "not an image name"),
        ("box=node:1@bad net", "not a network name"),
    ],
)
def test_bad_slots_say_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_slot(text)


def test_names_are_unique() -> None:
    assert [s.slot_name for s in parse_slots(["a=x:1", "b=x:2"])] == ["docker:a", "docker:b"]
    with pytest.raises(ValueError, match="'a' is used twice"):
        parse_slots(["a=x:1", "a=y:2"])


def test_the_setting_validates_through_the_settings_file(hermetic_env: object) -> None:
    settings = settings_mod.load()
    assert settings.get("agents.container_slots") == []
    settings.set("agents.container_slots", ["box=claude-box:latest:2"])
    settings.save()
    assert settings_mod.load().get("agents.container_slots") == ["box=claude-box:latest:2"]
    with pytest.raises(SettingsError, match="the cap is missing"):
        settings.set("agents.container_slots", ["box=claude-box"])


async def test_the_queue_follows_the_setting(hermetic_env: object, tmp_path: Path) -> None:
    settings = settings_mod.load()
    settings.update({"agents.container_slots": ["box=claude-box:latest:2"]})
    queue = AgentQueue(AgentsRepo(tmp_path / "agents.sqlite3"), policy=QueuePolicy(default_cap=1))
    stop = attach_containers(queue, settings)
    try:
        assert queue.slots == [Slot("local", 1), Slot("docker:box", 2, "claude-box:latest")]
        settings.update({"agents.container_slots": ["a=img:1:1", "b=img:2:3@none"]})
        assert [(s.name, s.cap, s.image) for s in queue.slots] == [
            ("local", 1, None),
            ("docker:a", 1, "img:1"),
            ("docker:b", 3, "img:2"),
        ]
        settings.update(reset=["agents.container_slots"])
        assert queue.slots == [Slot("local", 1)]
    finally:
        await stop()
        queue.repo.close()
    settings.update({"agents.container_slots": ["late=img:1"]})
    assert queue.slots == [Slot("local", 1)]  # stopped: no longer followed
