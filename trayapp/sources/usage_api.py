"""HTTP client for ``GET {base}/api/oauth/usage`` (httpx.AsyncClient).

Sends exactly what Claude Code sends (Bearer token, ``anthropic-beta: oauth-2025-04-20``,
``User-Agent: claude-code/<version>``), with a 5 s connect and 10 s overall timeout, and maps
every outcome to a :class:`FetchResult`: a parsed snapshot, or a :class:`FetchError` whose
kind the poll policy acts on (429 -> ``rate_limited`` with ``retry_at`` from ``Retry-After``;
401/403 -> ``auth``; 5xx -> ``server``; timeouts and refused connections -> ``network``;
garbage -> ``bad_response``). The token is never logged or put in a message.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from trayapp.core.models import ErrorKind, FetchError, Source, UsageSnapshot
from trayapp.sources.claude_version import FALLBACK_VERSION, user_agent
from trayapp.sources.usage_parse import MAX_BODY_BYTES, BadResponse, parse_usage

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.anthropic.com"
BASE_ENV = "CLAUDE_WATCH_API_BASE"
USAGE_PATH = "/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
DEFAULT_RETRY_AFTER = timedelta(minutes=5)
MAX_RETRY_AFTER = timedelta(days=1)


def api_base() -> str:
    return (os.environ.get(BASE_ENV) or DEFAULT_BASE).rstrip("/")


@dataclass(frozen=True, slots=True)
class FetchResult:
    snapshot: UsageSnapshot | None
    error: FetchError | None
    http_status: int | None = None
    notes: tuple[str, ...] = ()


def parse_retry_after(value: str | None, now: datetime) -> datetime:
    """``Retry-After`` (seconds or HTTP-date) -> when to try again; 0/missing/garbage -> 5 min.

    Total: any header value gives a time at least a little in the future. Only ASCII digits count
    as seconds (``str.isdigit`` also accepts "²" and other Unicode digits ``int`` rejects).
    """
    delay: timedelta | None = None
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        delay = timedelta(seconds=int(text[:9]))
    elif text:
        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            delay = when - now
        except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
            delay = None
    if delay is None or delay <= timedelta(0):
        delay = DEFAULT_RETRY_AFTER
    return now + min(delay, MAX_RETRY_AFTER)


def _error_for_status(status: int, headers: httpx.Headers, now: datetime) -> FetchError:
    if status == 429:
        retry_at = parse_retry_after(headers.get("retry-after"), now)
        return FetchError(
            ErrorKind.RATE_LIMITED,
            "The usage endpoint is rate-limiting this login; showing the last reading until it allows "
            "another.",
            retry_at,
        )
    if status == 401:
        return FetchError(
            ErrorKind.AUTH,
            "The usage endpoint rejected the login (401). Open Claude Code once to refresh the login.",
        )
    if status == 403:
        return FetchError(
            ErrorKind.AUTH,
            "The usage endpoint refused this token (403): it lacks the user:profile scope. Sign in with "
            "`claude` (`/login`); tokens from `claude setup-token` cannot read usage.",
        )
    if status >= 500:
        return FetchError(
            ErrorKind.SERVER, f"The usage endpoint had a server error ({status}); retrying later."
        )
    return FetchError(
        ErrorKind.BAD_RESPONSE, f"The usage endpoint answered with an unexpected status {status}."
    )


class UsageClient:
    """One long-lived client; call :meth:`fetch` per poll and :meth:`aclose` at shutdown."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        version: str = FALLBACK_VERSION,
        source: Source = Source.API,
        connect_timeout: float = CONNECT_TIMEOUT,
        total_timeout: float = TOTAL_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or api_base()).rstrip("/")
        self.version = version
        self.source = source
        self.total_timeout = total_timeout
        plain_http = self.base_url.startswith("http://")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
            # A plain-http base (loopback test server, demo) never does TLS: skip loading the CA
            # bundle, which costs ~50 ms per start. https keeps full verification.
            verify=not plain_http,
            # Never pick up proxies or netrc credentials silently for a loopback test server.
            trust_env=not self.base_url.startswith(("http://127.0.0.1", "http://localhost")),
        )

    @property
    def url(self) -> str:
        return self.base_url + USAGE_PATH

    def headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "anthropic-beta": BETA_HEADER,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": user_agent(self.version),
        }

    async def fetch(self, token: str, now: datetime) -> FetchResult:
        """One request; never raises (every outcome, a bug included, is a :class:`FetchResult`)."""
        try:
            return await self._fetch(token, now)
        except Exception as exc:  # the caller's backoff must see every failure as a failure
            log.exception("usage request failed unexpectedly")
            return FetchResult(
                None,
                FetchError(
                    ErrorKind.INTERNAL,
                    f"Claude Watch could not make the usage request ({type(exc).__name__}); retrying later.",
                ),
            )

    async def _fetch(self, token: str, now: datetime) -> FetchResult:
        if not token.isascii() or not token.isprintable():
            # httpx would raise UnicodeEncodeError building the header; say what is wrong instead.
            return FetchResult(
                None,
                FetchError(
                    ErrorKind.AUTH,
                    "The Claude Code login token is not plain text, so it cannot be sent. Sign in "
                    "again with `claude` (`/login`).",
                ),
            )
        try:
            async with (
                asyncio.timeout(self.total_timeout),
                self._client.stream("GET", self.url, headers=self.headers(token)) as response,
            ):
                body = await self._read_limited(response)
        except (TimeoutError, httpx.TimeoutException):
            return FetchResult(
                None,
                FetchError(
                    ErrorKind.NETWORK, f"The usage endpoint did not answer within {self.total_timeout:g} s."
                ),
            )
        except httpx.ConnectError:
            return FetchResult(
                None, FetchError(ErrorKind.NETWORK, f"Cannot reach {self.base_url}: offline or blocked?")
            )
        except (httpx.HTTPError, OSError) as exc:
            return FetchResult(
                None,
                FetchError(
                    ErrorKind.NETWORK, f"Network error talking to {self.base_url}: {type(exc).__name__}"
                ),
            )
        except BadResponse as exc:
            return FetchResult(None, FetchError(ErrorKind.BAD_RESPONSE, str(exc)), response.status_code)
        status = response.status_code
        if status != 200:
            return FetchResult(None, _error_for_status(status, response.headers, now), status)
        try:
            parsed = parse_usage(body, now, self.source)
        except BadResponse as exc:
            return FetchResult(None, FetchError(ErrorKind.BAD_RESPONSE, str(exc)), status)
        return FetchResult(parsed.snapshot, None, status, parsed.notes)

    @staticmethod
    async def _read_limited(response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BadResponse("the usage response is implausibly large")
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self._client.aclose()
