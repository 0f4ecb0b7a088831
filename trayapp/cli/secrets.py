"""``claude-watch secrets set|delete NAME`` and ``secrets list``: our secrets in the OS keyring.

Values come from a hidden prompt when stdin is a terminal, or from stdin otherwise (so scripts
can pipe them in); they are never echoed, printed or written anywhere but the keyring.
"""

from __future__ import annotations

import argparse
import sys

_NAMES = ("telegram-bot-token", "slack-webhook-url", "anthropic-api-key", "claude-oauth-token")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "secrets",
        help="store or remove the Telegram, Slack, Anthropic and container-token secrets in the OS keyring",
        description="Secrets live in the OS keyring only (never in the settings file). Names: "
        + ", ".join(_NAMES),
    )
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ssub.add_parser("list", help="each secret's name and whether it is set (values are never shown)")
    s = ssub.add_parser("set", help="store a secret (hidden prompt, or stdin when piped)")
    s.add_argument("name", choices=_NAMES)
    d = ssub.add_parser("delete", help="remove a secret from the keyring")
    d.add_argument("name", choices=_NAMES)
    p.set_defaults(func=run)


def _read_value(name: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{name} (input hidden): ")
    data = sys.stdin.read() if sys.stdin is not None else ""
    return data.strip()


def run(args: argparse.Namespace) -> int:
    from trayapp.platform import secrets as sec

    store = sec.default_store()
    if args.action == "list":
        width = max(len(n) for n in sec.ALL_NAMES)
        unavailable = None
        for name in sec.ALL_NAMES:
            st = store.status(name)
            if st.origin.startswith("keyring unavailable"):
                unavailable = st.origin
                state = "unknown (keyring unavailable)"
            else:
                state = f"set ({st.origin})" if st.is_set else "not set"
            print(f"{name:<{width}}  {state}")
        if unavailable:
            print(f"note: {unavailable}", file=sys.stderr)
        return 0
    try:
        if args.action == "set":
            value = _read_value(args.name)
            if not value:
                print(f"error: no value given for {args.name}; nothing stored", file=sys.stderr)
                return 2
            problem = sec.validate(args.name, value)
            if problem:
                print(f"error: {args.name}: {problem}; nothing stored", file=sys.stderr)
                return 2
            store.set(args.name, value)
            print(f"{args.name} stored in the keyring ({store.backend_name().rsplit('.', 1)[-1]})")
            env = sec.ENV_OVERRIDES[args.name]
            import os

            if os.environ.get(env):
                print(f"note: {env} is set in this environment and overrides the keyring", file=sys.stderr)
            return 0
        if store.delete(args.name):
            print(f"{args.name} removed from the keyring")
        else:
            print(f"{args.name} was not in the keyring")
        return 0
    except sec.SecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
