"""The OTLP/HTTP routes on the app's loopback server: ``POST /v1/logs`` and ``POST /v1/metrics``.

Claude Code (``claude-watch telemetry --install`` points it here) exports its metrics and events
with ``OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer <token>``. The token is the hook token of
``state/local-server.json``: it lets a client *send* (hook events, telemetry) and read nothing,
while the API token, which reads everything, never goes into Claude Code's settings.

Each post: the token (401 before the body is read), the content type (``application/json`` or
``application/x-protobuf``, else 415), the body under :data:`MAX_BODY` bytes on the wire (413;
chunked bodies too: Node sends them so) and under ``MAX_INFLATED`` once un-gzipped (413), then
decoded in slices on the loop, folded, and stored on a worker lane
(``services/telemetry_service``). A body that does not decode is a 400 with nothing stored.
Success is a 200 carrying an empty ``Export{Logs,Metrics}ServiceResponse`` in the request's
encoding, with ``partialSuccess`` when some of Claude Code's records were refused (absurd values).
Every refusal is counted in ``TelemetryTotals.rejected_posts``.
"""

from __future__ import annotations

import hmac
import logging

from trayapp.services.local_server import Request, Response, Route
from trayapp.services.telemetry_service import TelemetryService
from trayapp.sources.otlp_decode import OtlpError, content_type, empty_reply

log = logging.getLogger(__name__)

LOGS_PATH = "/v1/logs"
METRICS_PATH = "/v1/metrics"
MAX_BODY = 8 * 1024 * 1024  # on the wire; a Claude Code batch (512 records) is a few hundred KiB


class TelemetryReceiver:
    """The two OTLP routes, authenticated with ``token`` (the hook token)."""

    def __init__(self, token: str, service: TelemetryService) -> None:
        self._token = token.encode("utf-8")
        self.service = service

    def routes(self) -> list[Route]:
        return [
            Route("POST", path, handler, token=None, max_body=MAX_BODY, auth=self._auth, chunked=True)
            for path, handler in ((LOGS_PATH, self._logs), (METRICS_PATH, self._metrics))
        ]

    def _auth(self, request: Request) -> Response | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if not given and scheme.lower().startswith("bearer%20"):  # a header value left URL-encoded
            scheme, given = "bearer", scheme[len("bearer%20") :]
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), self._token
        ):
            return None
        self.service.reject()
        return Response.text(401, "unauthorized", (("WWW-Authenticate", "Bearer"),))

    async def _logs(self, request: Request) -> Response:
        return await self._ingest("logs", request)

    async def _metrics(self, request: Request) -> Response:
        return await self._ingest("metrics", request)

    async def _ingest(self, signal: str, request: Request) -> Response:
        media = content_type(request.headers.get("content-type"))
        if media is None:
            self.service.reject()
            return Response.text(415, "send application/json or application/x-protobuf")
        encoding = request.headers.get("content-encoding")
        try:
            result = await self.service.ingest(signal, request.body, media, encoding)
        except OtlpError as exc:
            self.service.reject()
            return Response.text(exc.status, f"bad OTLP {signal} request: {exc.reason}")
        if result.counted:
            self.service.changed_soon()
        message = (
            f"{result.refused} Claude Code records with absurd values were refused" if result.refused else ""
        )
        return Response(200, empty_reply(signal, media, result.refused, message), media)
