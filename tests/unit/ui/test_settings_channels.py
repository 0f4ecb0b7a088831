"""The channels page inside the Settings dialog: its secrets and a "Send test" per channel join the
Notifications page's channel groups (no page of their own), and a test sends what the dialog
shows, through the real channels service to loopback Telegram and Slack servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.helpers.channel_dispatchers import dispatcher_factory
from tests.helpers.fake_keyring import MemoryKeyring
from tests.helpers.loopback_servers import SlackServer, TelegramServer
from trayapp import settings as st
from trayapp.platform.secrets import SecretStore
from trayapp.services.channels_service import ChannelsService
from trayapp.ui.channels_page import ChannelsPage, make_page
from trayapp.ui.settings_dialog import SettingsDialog

TOKEN = "123456:TEST-token_abcdef"


@pytest.fixture
def dialog(qtbot, store: SecretStore, tmp_path: Path):
    cfg = st.load()
    with dispatcher_factory(cfg, store, tmp_path, slack=True) as factory:
        d = SettingsDialog(cfg, set_autostart=None)
        d.add_page(make_page(ChannelsService(cfg, store, factory), alone=False), "Alert channels")
        qtbot.addWidget(d)
        yield d


def channels(dialog: SettingsDialog) -> ChannelsPage:
    (page,) = dialog.findChildren(ChannelsPage)
    return page


async def idle(page: ChannelsPage) -> None:
    assert page.service is not None
    assert await page.service.wait_idle(10)


def test_channel_actions_join_the_notifications_page(dialog: SettingsDialog) -> None:
    assert "Alert channels" not in dialog.page_titles()
    assert "Channels" not in dialog.page_titles()
    page = channels(dialog)
    notifications = dialog._pages["Notifications"]
    for channel in ("telegram", "slack", "sound", "all"):
        assert notifications.isAncestorOf(page.test_buttons[channel]), channel
        assert page.test_buttons[channel].text().startswith("Send")
    # Desktop notifications are set with the alerts; their test is there too.
    assert dialog._pages["Usage & alerts"].isAncestorOf(page.test_buttons["desktop"])
    for row in page.rows.values():
        assert notifications.isAncestorOf(row)
    # Each channel's Send test sits in the same group as the channel's own switch.
    telegram_group = dialog.editors["telegram.enabled"].parentWidget().parentWidget()
    assert telegram_group.isAncestorOf(page.test_buttons["telegram"])
    assert telegram_group.isAncestorOf(page.rows["telegram-bot-token"])
    assert telegram_group.isAncestorOf(page.link_button)
    slack_group = dialog.editors["slack.enabled"].parentWidget().parentWidget()
    assert slack_group.isAncestorOf(page.test_buttons["slack"])
    assert not slack_group.isAncestorOf(page.test_buttons["telegram"])


async def test_send_test_saves_what_the_dialog_shows_then_sends(
    dialog: SettingsDialog, qtbot, store: SecretStore, telegram: TelegramServer
) -> None:
    store.set("telegram-bot-token", TOKEN)
    page = channels(dialog)
    # Typed, not applied: the test takes them (it saves first, as Apply would).
    dialog.editors["telegram.enabled"].box.setChecked(True)
    dialog.set_editor_text("telegram.chat_id", "4242")
    qtbot.mouseClick(page.test_buttons["telegram"], Qt.MouseButton.LeftButton)
    assert page.test_results["telegram"].text() == "Sending…"
    await idle(page)
    assert st.load().get("telegram.chat_id") == "4242"
    assert "telegram: delivered" in page.test_results["telegram"].text()
    assert len(telegram.messages) == 1
    assert str(telegram.messages[0]["chat_id"]) == "4242"


async def test_send_test_with_a_wrong_field_sends_nothing(
    dialog: SettingsDialog, qtbot, store: SecretStore, slack: SlackServer
) -> None:
    store.set("slack-webhook-url", slack.webhook_url)
    page = channels(dialog)
    dialog.set_editor_text("tracking.timezone", "Mars/Olympus")
    qtbot.mouseClick(page.test_buttons["slack"], Qt.MouseButton.LeftButton)
    await idle(page)
    assert page.test_results["slack"].text() == "Fix the fields marked in red first."
    assert slack.messages == []
    dialog.set_editor_text("tracking.timezone", "")
    qtbot.mouseClick(page.test_buttons["slack"], Qt.MouseButton.LeftButton)
    await idle(page)
    assert "slack: delivered" in page.test_results["slack"].text()
    assert len(slack.messages) == 1
    assert "5-hour window at 90%" in slack.messages[0]["text"]


async def test_showing_the_notifications_page_checks_the_secrets(
    dialog: SettingsDialog, qtbot, keyring_backend: MemoryKeyring, store: SecretStore
) -> None:
    store.set("anthropic-api-key", "sk-ant-api03-shown-never")
    page = channels(dialog)
    dialog.show()
    dialog.show_page("Notifications")
    await idle(page)
    assert page.rows["anthropic-api-key"].status.text() == "Set in the keyring."
    assert page.rows["telegram-bot-token"].status.text() == "Not set."
