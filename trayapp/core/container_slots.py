"""Container slots for agents, as the setting ``agents.container_slots`` writes them (pure).

Each item is ``NAME=IMAGE:CAP`` with an optional ``@NETWORK``: ``box=claude-box:latest:2`` runs at
most two tasks at once in ``claude-box:latest`` on Docker's default network (``bridge``: claude
needs to reach Anthropic's API); ``sealed=claude-box:1:1@none`` runs one with no network at all. The
cap is always the last ``:N`` (an image keeps its own tag: ``box=node:22:2``), so it is required:
``box=node:22`` is read as the image ``node`` with a cap of 22 and refused (at most
:data:`MAX_CAP`). Each becomes the queue's slot ``docker:NAME``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from trayapp.core.agents import Slot

PREFIX = "docker"
MAX_CAP = 8
DEFAULT_NETWORK = "bridge"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}")
_NETWORK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
EXAMPLE = "box=claude-box:latest:2 (NAME=IMAGE:CAP, optionally @NETWORK)"


@dataclass(frozen=True, slots=True)
class ContainerSlot:
    name: str  # the part after "docker:"
    image: str
    cap: int
    network: str = DEFAULT_NETWORK

    @property
    def slot_name(self) -> str:
        return f"{PREFIX}:{self.name}"

    def slot(self) -> Slot:
        return Slot(self.slot_name, self.cap, self.image)


def parse_slot(text: str) -> ContainerSlot:
    """One ``NAME=IMAGE:CAP[@NETWORK]``; ValueError saying what is wrong (and an example)."""
    raw = text.strip()
    name, eq, rest = raw.partition("=")
    if not eq:
        raise ValueError(f"{raw!r}: use {EXAMPLE}")
    name, rest = name.strip(), rest.strip()
    if not _NAME.fullmatch(name):
        raise ValueError(f"{raw!r}: a slot name is lower-case letters, digits, '.', '_' or '-' (up to 32)")
    network = DEFAULT_NETWORK
    head, at, tail = rest.rpartition("@")
    if at and ":" not in tail:  # an image digest (image@sha256:...) keeps its "@"
        rest, network = head, tail
        if not _NETWORK.fullmatch(network):
            raise ValueError(f"{raw!r}: {network!r} is not a network name (none, bridge, host or yours)")
    image, colon, cap_text = rest.rpartition(":")
    if not colon or not cap_text.isdigit():
        raise ValueError(f"{raw!r}: the cap is missing; use {EXAMPLE}")
    cap = int(cap_text)
    if not 1 <= cap <= MAX_CAP:
        raise ValueError(
            f"{raw!r}: the cap {cap} is not between 1 and {MAX_CAP} (the image keeps its tag: box=node:22:2)"
        )
    if not _IMAGE.fullmatch(image):
        raise ValueError(f"{raw!r}: {image!r} is not an image name")
    return ContainerSlot(name, image, cap, network)


def parse_slots(items: Iterable[str]) -> list[ContainerSlot]:
    """Every item, in order; ValueError on the first bad one or a name used twice."""
    slots: list[ContainerSlot] = []
    for item in items:
        slot = parse_slot(item)
        if any(s.name == slot.name for s in slots):
            raise ValueError(f"the slot name {slot.name!r} is used twice")
        slots.append(slot)
    return slots
