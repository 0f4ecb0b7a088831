"""``claude-watch notify test [--channel desktop|telegram|slack|sound|all]``: a sample alert, for real.

Sends a sample threshold alert (the 5-hour window at 90%) with its quip through each chosen
channel exactly as a real crossing would (same dispatcher, same outbox, same quip writer), then
reports each channel's outcome. Exit status 0 when every chosen channel delivered. With ``all``,
channels that are not configured (no token, no webhook, sound off) are listed as skipped and do
not count. A test message that could not be delivered is removed from the outbox, so it never
pops up later.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the CLI module top stays argparse-light
    from trayapp.channels.base import Channel

CHOICES = ("desktop", "telegram", "slack", "sound", "all")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("notify", help="send a test alert through the alert channels")
    nsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = nsub.add_parser("test", help="send a sample 90%% alert (quip included) and report each channel")
    t.add_argument(
        "--channel", choices=CHOICES, default="all", help="which channel to test (default: all configured)"
    )
    p.set_defaults(func=run)


def _desktop_channel() -> Channel | None:
    try:
        from trayapp.channels.desktop import DesktopChannel
    except ImportError:
        return None
    return DesktopChannel(enabled=lambda: True)


async def _run_test(choice: str) -> int:
    from trayapp import settings as st
    from trayapp.channels.dispatcher import Dispatcher
    from trayapp.channels.quips import QuipWriter
    from trayapp.channels.sample import sample_alert
    from trayapp.channels.slack import SlackChannel
    from trayapp.channels.sound import SoundChannel
    from trayapp.channels.telegram import TelegramChannel
    from trayapp.store.outbox_repo import Outbox

    cfg = st.load()
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    setting = cfg.get
    outbox = Outbox()
    writer = QuipWriter(setting)
    telegram = TelegramChannel(outbox, setting, quips=writer)
    slack = SlackChannel(outbox, setting, quips=writer)
    sound = SoundChannel(setting)
    desktop = _desktop_channel()
    channels = [c for c in (desktop, sound, telegram, slack) if c is not None]
    dispatcher = Dispatcher(channels, writer, setting)

    wanted = ["desktop", "sound", "telegram", "slack"] if choice == "all" else [choice]
    skipped: dict[str, str] = {}
    if "desktop" in wanted and desktop is None:
        wanted.remove("desktop")
        if choice == "desktop":
            print("desktop: FAILED - desktop channel not available")
            return 1
        skipped["desktop"] = "desktop channel not available"
    if choice == "all":
        if not setting("sound.enabled"):
            skipped["sound"] = "off (claude-watch config set sound.enabled true)"
        for remote in (telegram, slack):
            transport, why = await remote.transport()
            if transport is None:  # "no bot token: ..." is not configured; a locked keyring is its own
                skipped[remote.name] = f"not configured: {why}" if why.startswith("no ") else why
        wanted = [w for w in wanted if w not in skipped]

    alert = sample_alert()
    result = await dispatcher.dispatch(alert, only=wanted) if wanted else None
    if result is not None and result.quip is not None:
        origin = "written by Claude" if result.quip.source == "claude" else f"canned: {result.quip.detail}"
        print(f"quip: {result.quip.text}  ({origin})")
    ok = bool(wanted)
    deliveries = result.by_channel() if result is not None else {}
    for name in ("desktop", "sound", "telegram", "slack"):
        if name in skipped:
            print(f"{name}: skipped - {skipped[name]}")
        elif name in deliveries:
            d = deliveries[name]
            if d.ok:
                print(f"{name}: delivered ({d.detail})" if d.detail else f"{name}: delivered")
            else:
                ok = False
                print(f"{name}: FAILED - {d.detail or 'unknown reason'}")
                outbox.drop(name, alert.key)
    if not wanted:
        print("nothing to test: no channel is configured", file=sys.stderr)
    outbox.close()
    return 0 if ok else 1


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.channel in ("sound", "all"):
        # QSoundEffect needs a Qt application and its event loop; qasync runs asyncio on it.
        import qasync
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            return runner.run(_run_test(args.channel))
    return asyncio.run(_run_test(args.channel))
