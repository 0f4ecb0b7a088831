"""A server that echoes a secret back in another form never gets it into a log, the outbox or the
detail shown to the user (issue 20: URL-encoded, upper-cased, or the Slack webhook's secret path
alone reached claude-watch.log, outbox.sqlite3's last_error, stderr and `notify test`)."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from tests.helpers.fixtures_channels import SettingsDict, Sleeper, make_alert
from tests.helpers.loopback_servers import SlackServer, TelegramServer
from trayapp.channels import slack as sl
from trayapp.channels.telegram import TelegramChannel
from trayapp.core.clock import FakeClock
from trayapp.platform.secrets import SecretStore, redact
from trayapp.store.outbox_repo import Outbox

TOKEN = "123456:TEST-token_abcdef"
WEBHOOK_SECRET = "Xy7webhookSecretPart42"


def echoes(secret: str) -> list[str]:
    return [secret, secret.upper(), secret.lower(), quote(secret, safe=""), quote(secret, safe="").lower()]


def leaks(text: str, secret: str) -> list[str]:
    return [
        form for form in {*echoes(secret), *echoes(secret.split("/")[-1])} if form.lower() in text.lower()
    ]


@pytest.mark.parametrize("form", echoes(TOKEN))
def test_redact_catches_every_form_of_a_token(form: str) -> None:
    assert redact(f"bad token {form} here", TOKEN) == "bad token *** here"


def test_redact_catches_a_webhook_path_and_its_secret_segment() -> None:
    url = f"https://hooks.slack.com/services/T0001/B0001/{WEBHOOK_SECRET}"
    assert WEBHOOK_SECRET not in redact(f"unknown hook /services/T0001/B0001/{WEBHOOK_SECRET}", url)
    assert redact(f"no such secret {WEBHOOK_SECRET.upper()}", url) == "no such secret ***"
    assert redact("short words stay: T0001 ok", url) == "short words stay: T0001 ok"


@pytest.fixture
def outbox(clock: FakeClock, tmp_path) -> Outbox:
    box = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    yield box
    box.close()


@pytest.mark.parametrize("form", [*echoes(TOKEN), f"token=bot{quote(TOKEN)}"])
async def test_telegram_error_echoing_the_token(
    form: str,
    telegram: TelegramServer,
    store: SecretStore,
    settings: SettingsDict,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store.set("telegram-bot-token", TOKEN)
    settings["telegram.enabled"] = True
    settings["telegram.chat_id"] = "4242"
    telegram.script.append(TelegramServer.error(400, f"Bad Request: invalid parameter {form}"))
    d = await TelegramChannel(outbox, settings.get, store, clock=clock, sleep=sleeper).send(make_alert(clock))
    assert not d.ok
    assert leaks(d.detail, TOKEN) == []
    assert leaks(caplog.text, TOKEN) == []
    assert leaks(outbox.path.read_bytes().decode("utf-8", "replace"), TOKEN) == []


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_slack_error_echoing_the_webhook(
    status: int,
    store: SecretStore,
    settings: SettingsDict,
    outbox: Outbox,
    clock: FakeClock,
    sleeper: Sleeper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with SlackServer(secret=WEBHOOK_SECRET) as server:
        server.script.append((status, f"no such hook: {server.path.upper()}".encode(), {}))
        store.set("slack-webhook-url", server.webhook_url)
        d = await sl.SlackChannel(outbox, settings.get, store, clock=clock, sleep=sleeper).send(
            make_alert(clock)
        )
    assert not d.ok
    assert leaks(d.detail, WEBHOOK_SECRET) == []
    assert leaks(caplog.text, WEBHOOK_SECRET) == []
    assert leaks(outbox.path.read_bytes().decode("utf-8", "replace"), WEBHOOK_SECRET) == []
