"""``claude-watch telegram link``: find the chat to send alerts to, from the bot's ``getUpdates``.

The user messages their bot first (any text); this command then reads the bot's pending updates,
takes the most recent chat, saves its id as ``telegram.chat_id``, turns ``telegram.enabled`` on and
sends a confirmation message there. ``--wait`` keeps polling for a while so the message can be
sent after starting the command; ``--chat-id`` sets the id directly.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("telegram", help="link Claude Watch to your Telegram chat")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    link = tsub.add_parser(
        "link", help="find your chat id after you message the bot, save it and send a confirmation"
    )
    link.add_argument(
        "--wait", type=float, default=60.0, metavar="SECONDS", help="how long to wait for a message (60)"
    )
    link.add_argument("--chat-id", help="use this chat id instead of looking it up")
    p.set_defaults(func=run)


async def _link(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from trayapp import settings as st
    from trayapp.channels import telegram as tg
    from trayapp.platform.secrets import SecretsError, default_store

    try:
        token = default_store().get(tg.TOKEN_SECRET)
    except SecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not token:
        print(
            "error: no bot token; create a bot with @BotFather, then run "
            "`claude-watch secrets set telegram-bot-token`",
            file=sys.stderr,
        )
        return 1
    chat_id: str | None = None
    if args.chat_id:
        if not args.chat_id.lstrip("-").isdigit():
            print("error: a chat id is a number, like 123456789 or -1001234567890", file=sys.stderr)
            return 2
        chat_id = args.chat_id
    else:
        deadline = time.monotonic() + max(0.0, args.wait)
        told = False
        while True:
            try:
                chats = tg.chats_from_updates(await tg.get_updates(token))
            except tg.TelegramError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            if chats:
                break
            if time.monotonic() >= deadline:
                print(
                    "error: no message found; send any message to your bot in Telegram, then run this again",
                    file=sys.stderr,
                )
                return 1
            if not told:
                print(f"Send any message to your bot in Telegram now (waiting up to {args.wait:.0f} s)...")
                told = True
            await asyncio.sleep(2)
        chosen = chats[0]
        chat_id = str(chosen.chat_id)
        print(f"found chat {chosen.title} ({chosen.kind}), id {chat_id}")
        for other in chats[1:]:
            print(f"  also seen: {other.title} ({other.kind}), id {other.chat_id}; use --chat-id to pick it")
    cfg = st.load()
    cfg.set("telegram.chat_id", chat_id)
    cfg.set("telegram.enabled", True)
    cfg.save()
    print(f"telegram.chat_id = {chat_id}; telegram.enabled = true")
    attempt = await tg.TelegramTransport(token, chat_id).post(
        "Claude Watch is linked to this chat. Limit alerts will arrive here."
    )
    if not attempt.ok:
        print(f"error: could not send the confirmation: {attempt.detail}", file=sys.stderr)
        return 1
    print("confirmation sent; try `claude-watch notify test --channel telegram`")
    return 0


def run(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_link(args))
