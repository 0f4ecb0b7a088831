"""The dispatcher "Send test" uses in the channels page and Settings tests: real Telegram (and
Slack) channels with an outbox in a temp folder, as the app builds them, for loopback servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from trayapp import settings as st
from trayapp.channels.dispatcher import Dispatcher
from trayapp.channels.quips import QuipWriter
from trayapp.channels.slack import SlackChannel
from trayapp.channels.telegram import TelegramChannel
from trayapp.platform.secrets import SecretStore
from trayapp.store.outbox_repo import Outbox


@contextmanager
def dispatcher_factory(
    cfg: st.Settings, store: SecretStore, folder: Path, slack: bool = False
) -> Iterator[Callable[[], Dispatcher]]:
    """A factory of dispatchers (a new one per "Send test", as the page asks); their outboxes are
    closed on exit."""
    boxes: list[Outbox] = []

    def factory() -> Dispatcher:
        box = Outbox(folder / "outbox.sqlite3")
        boxes.append(box)
        writer = QuipWriter(cfg.get, store)
        channels = [TelegramChannel(box, cfg.get, store, quips=writer)]
        if slack:
            channels.append(SlackChannel(box, cfg.get, store))
        return Dispatcher(channels, writer, cfg.get)

    try:
        yield factory
    finally:
        for box in boxes:
            box.close()
