"""``claude-watch serve [--demo] [--pair] [--open] [--new-token]``: the local API without the tray.

For headless machines: the same loopback server the tray app runs (``services/local_host``), on
the port kept in ``state/local-server.json``, fed by a headless usage service that polls exactly
as politely as the app (same policy, same cooldowns, same database). It prints its URL when it
starts and runs until Ctrl+C or SIGTERM. ``--demo`` serves the simulated account.

When the tray app (or another ``serve``) already serves on that port, ``serve`` says so, names
the URL and exits 1; ``--pair``, ``--open`` and ``--new-token`` then ask the running one (a
pairing code, a login link, a new token that revokes the old one and every paired client).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_ALREADY_SERVING = 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve",
        help="serve the local API (web dashboard, browser extension, status bars) without the tray",
        description="Serve the local API on loopback without the tray app. Prints its URL; runs "
        "until Ctrl+C. With the tray app running, --pair, --open and --new-token ask it instead.",
    )
    p.add_argument("--demo", dest="serve_demo", action="store_true", help="serve the simulated account")
    p.add_argument("--pair", action="store_true", help="print a pairing code for the browser extension")
    p.add_argument("--open", action="store_true", help="open the web dashboard in the browser")
    p.add_argument(
        "--new-token", action="store_true", help="replace the API token (paired clients must pair again)"
    )
    p.set_defaults(func=run)


def _ask(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    """One request to a server already listening on ``port`` (status 0: nobody answered)."""
    import json
    import urllib.error
    import urllib.request

    headers = {"Host": f"127.0.0.1:{port}"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    method = "GET" if token is None else "POST"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", b"" if token else None, headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read(65536) or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (OSError, ValueError):
        return 0, {}


def _running_port() -> int | None:
    """The stored port when a Claude Watch server answers there."""
    from trayapp.store import local_endpoint

    endpoint = local_endpoint.load()
    if endpoint is None:
        return None
    status, body = _ask(endpoint.port, "/health")
    return endpoint.port if status == 200 and body.get("app") == "claude-watch" else None


def _open_browser(url: str) -> None:
    import webbrowser

    if not webbrowser.open(url):
        print(f"Open this link in your browser within a minute: {url}", flush=True)


def run(args: argparse.Namespace) -> int:
    from trayapp.store import api_token

    port = _running_port()
    if port is not None:
        return _ask_running(args, port)
    if args.new_token:
        api_token.rotate_token()
        print(f"New API token in {api_token.token_path()}; paired clients must pair again.", flush=True)
    return _serve(args)


def _ask_running(args: argparse.Namespace, port: int) -> int:
    from trayapp.store import api_token

    url = f"http://127.0.0.1:{port}/"
    if not (args.pair or args.open or args.new_token):
        print(f"Claude Watch is already serving the local API at {url}", file=sys.stderr)
        return EXIT_ALREADY_SERVING
    token = api_token.load_or_create_token()
    asks = (
        (args.new_token, "/v1/token/rotate", "a new token"),
        (args.pair, "/v1/pair/new", "a pairing code"),
        (args.open, "/v1/login/new", "a login link"),
    )
    for wanted, path, what in asks:
        if not wanted:
            continue
        status, body = _ask(port, path, token)
        if status != 200:
            print(f"error: no {what} from {url} (HTTP {status}; is api.enabled on?)", file=sys.stderr)
            return 1
        if "rotated" in body:
            token = api_token.load_or_create_token()
            print(f"New API token in {api_token.token_path()}; paired clients must pair again.", flush=True)
        elif "code" in body:
            minutes = body["expires_in"] // 60
            print(f"Pairing code: {port}:{body['code']} (valid {minutes} minutes, once)", flush=True)
        else:
            _open_browser(str(body["url"]))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    import qasync
    from PySide6.QtCore import QCoreApplication

    from trayapp.logging_setup import setup_logging

    setup_logging()
    existing = QCoreApplication.instance()
    app = existing if existing is not None else QCoreApplication(sys.argv[:1])
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from trayapp import runtime
    from trayapp import settings as st
    from trayapp.services.local_api import login_url
    from trayapp.services.local_host import LocalHost, app_sources
    from trayapp.services.metrics_listener import MetricsListener
    from trayapp.services.sessions_service import SessionsService
    from trayapp.services.usage_engine import create_engine
    from trayapp.services.usage_service import UsageService
    from trayapp.store import api_token, session_hooks

    settings = st.load()
    demo = None
    if args.serve_demo:
        from trayapp.demo import start_demo

        demo = start_demo()
    stopping: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def stop() -> None:
        if not stopping.done():
            stopping.set_result(0)

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            asyncio.get_running_loop().add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # no POSIX signals (Windows)
            pass
    engine = await runtime.run_blocking(create_engine, demo=demo, settings=settings)
    usage = UsageService(engine, settings=settings)
    sessions = SessionsService(settings.get, None, hooks_file=session_hooks.default_path())
    host = LocalHost(
        settings,
        app_sources(settings, usage, sessions, scan_reports=True),
        on_hook_event=sessions.on_hook_event,
        force_api=True,
    )
    host.follow(usage, sessions)
    metrics = MetricsListener(settings, lambda: host.api)  # metrics.listen: /metrics for a fleet
    try:
        port = await host.start()
        if port is None:
            print("error: the local server could not start (see the log)", file=sys.stderr)
            return 1
        await metrics.start()
        usage.start()
        sessions.start_watching()
        what = "the demo account" if demo is not None else "your account"
        print(f"Claude Watch API for {what} at http://127.0.0.1:{port}/", flush=True)
        print(f"API token: {api_token.token_path()} (send it as 'Authorization: Bearer <token>')", flush=True)
        if args.pair:
            code = api_token.new_pairing_code()
            print(f"Pairing code: {port}:{code} (valid 5 minutes, once)", flush=True)
        if args.open:
            await runtime.run_blocking(_open_browser, login_url())
        return await stopping
    finally:
        await metrics.stop()
        await host.stop()
        await usage.stop()
        await sessions.stop_watching()
        await runtime.drain(2.0)
        if demo is not None:
            demo.stop()
