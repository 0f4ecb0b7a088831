"""The channels settings page as a view: clicks become intents, the service's outcomes are shown.

Most tests drive the page wired to a real :class:`ChannelsService` (``make_page``), as the app
builds it: a click goes to the service, the keyring (in memory) and a loopback Telegram server,
and the answer comes back into the labels. One test checks the page alone emits intents and
never touches the keyring itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.helpers.channel_dispatchers import dispatcher_factory
from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.loopback_servers import TelegramServer
from trayapp import runtime
from trayapp import settings as st
from trayapp.platform.secrets import SecretStore
from trayapp.services.channels_service import ChannelsService
from trayapp.ui.channels_page import ChannelsPage, make_page

TOKEN = "123456:TEST-token_abcdef"


@pytest.fixture
def page(qtbot, store: SecretStore, tmp_path: Path):
    cfg = st.load()
    with dispatcher_factory(cfg, store, tmp_path) as factory:
        p = make_page(ChannelsService(cfg, store, factory))
        qtbot.addWidget(p)
        yield p


async def idle(page: ChannelsPage) -> None:
    assert page.service is not None
    assert await page.service.wait_idle(10)


def all_text(page: ChannelsPage) -> str:
    from PySide6.QtWidgets import QLabel, QLineEdit

    return "\n".join(w.text() for w in page.findChildren(QLabel) + page.findChildren(QLineEdit))


async def test_secret_goes_to_the_keyring_and_never_back(
    page: ChannelsPage, qtbot, keyring_backend: MemoryKeyring, hermetic_env: Path
) -> None:
    row = page.rows["telegram-bot-token"]
    assert page.service is not None
    with qtbot.waitSignal(page.service.secret_changed, timeout=5000) as sig:
        qtbot.keyClicks(row.edit, TOKEN)
        qtbot.mouseClick(row.save, Qt.MouseButton.LeftButton)
        await idle(page)
    assert sig.args == ["telegram-bot-token"]
    assert keyring_backend.values[("claude-watch", "telegram-bot-token")] == TOKEN
    assert row.edit.text() == ""
    assert row.status.text() == "Set in the keyring."
    assert TOKEN not in all_text(page)
    for p in hermetic_env.rglob("*"):
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes()
    qtbot.mouseClick(row.remove, Qt.MouseButton.LeftButton)
    await idle(page)
    assert keyring_backend.values == {}
    assert row.status.text() == "Not set."


async def test_invalid_value_is_not_stored(page: ChannelsPage, qtbot, keyring_backend: MemoryKeyring) -> None:
    row = page.rows["slack-webhook-url"]
    qtbot.keyClicks(row.edit, "not a url")
    qtbot.mouseClick(row.save, Qt.MouseButton.LeftButton)
    await idle(page)
    assert keyring_backend.values == {}
    assert row.status.text().startswith("Not saved")
    assert "not a url" not in all_text(page)


async def test_link_chat_then_send_test(
    page: ChannelsPage, qtbot, store: SecretStore, telegram: TelegramServer
) -> None:
    store.set("telegram-bot-token", TOKEN)
    telegram.add_private_message(4242, first_name="Ada")
    assert page.service is not None
    with qtbot.waitSignal(page.service.settings_changed, timeout=5000):
        qtbot.mouseClick(page.link_button, Qt.MouseButton.LeftButton)
        assert not page.link_button.isEnabled()  # until the answer comes
        await idle(page)
    assert "Linked to Ada (chat 4242)" in page.chat_label.text()
    assert page.link_button.isEnabled()
    assert st.load().get("telegram.chat_id") == "4242"
    qtbot.mouseClick(page.test_buttons["telegram"], Qt.MouseButton.LeftButton)
    assert page.test_results["telegram"].text() == "Sending…"
    assert not page.test_buttons["telegram"].isEnabled()
    assert not page.test_buttons["slack"].isEnabled()  # one test at a time
    await idle(page)
    assert "telegram: delivered" in page.test_results["telegram"].text()
    assert page.test_results["slack"].text() == ""  # the outcome goes under its own button
    assert page.test_buttons["telegram"].isEnabled()
    assert "Quip:" in page.test_results["telegram"].text()  # canned here: no API key
    assert len(telegram.messages) == 1
    assert "5-hour window at 90%" in telegram.messages[0]["text"]


async def test_link_without_token(page: ChannelsPage, qtbot) -> None:
    qtbot.mouseClick(page.link_button, Qt.MouseButton.LeftButton)
    await idle(page)
    assert page.chat_label.text() == "Store the bot token first."


async def test_send_test_with_nothing_turned_on(page: ChannelsPage, qtbot) -> None:
    qtbot.mouseClick(page.test_buttons["all"], Qt.MouseButton.LeftButton)  # and telegram is off
    await idle(page)
    assert page.test_results["all"].text() == "No channel is turned on."


def test_showing_without_an_event_loop_is_harmless(page: ChannelsPage, qtbot) -> None:
    page.show()
    qtbot.waitExposed(page)
    assert page.service is not None
    assert [t for t, group in runtime._tasks.items() if group is page.service] == []  # nothing started
    assert page.rows["telegram-bot-token"].status.text() == "checking…"


async def test_showing_refreshes_the_status_off_thread(
    page: ChannelsPage, qtbot, store: SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.set("anthropic-api-key", "sk-ant-api03-shown-never")
    monkeypatch.setenv("CLAUDE_WATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/X")
    page.show()
    await idle(page)
    assert page.rows["anthropic-api-key"].status.text() == "Set in the keyring."
    assert (
        page.rows["slack-webhook-url"].status.text()
        == "Set by the environment variable CLAUDE_WATCH_SLACK_WEBHOOK_URL (it overrides the keyring)."
    )
    assert page.rows["telegram-bot-token"].status.text() == "Not set."
    assert "shown-never" not in all_text(page)


def test_the_page_alone_only_emits_intents(qtbot, keyring_backend: MemoryKeyring) -> None:
    page = ChannelsPage()  # no service: a view with nothing behind it
    page.lay_out_alone()
    qtbot.addWidget(page)
    row = page.rows["telegram-bot-token"]
    with qtbot.waitSignal(page.save_requested, timeout=1000) as saved:
        qtbot.keyClicks(row.edit, TOKEN)
        qtbot.mouseClick(row.save, Qt.MouseButton.LeftButton)
    assert saved.args == ["telegram-bot-token", TOKEN]
    assert row.edit.text() == ""
    assert row.status.text() == "Saving to the keyring…"
    with qtbot.waitSignal(page.remove_requested, timeout=1000) as removed:
        qtbot.mouseClick(row.remove, Qt.MouseButton.LeftButton)
    assert removed.args == ["telegram-bot-token"]
    with qtbot.waitSignal(page.link_requested, timeout=1000):
        qtbot.mouseClick(page.link_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(page.test_requested, timeout=1000) as test:
        qtbot.mouseClick(page.test_buttons["slack"], Qt.MouseButton.LeftButton)
    assert test.args == ["slack"]
    with qtbot.waitSignal(page.refresh_requested, timeout=1000):
        page.show()
    assert keyring_backend.calls == 0  # nothing but the service reaches the keyring
