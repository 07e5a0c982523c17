"""jiwoo's own OTLP/HTTP span exporter: the library's encoder, one persistent connection.

It is the SDK's ``SpanExporter``, so the batch processor runs it in its own thread and a
request never waits for it. Each batch is encoded by the library (``encode_spans``), so the
bytes on the wire are the library exporter's; only the sending differs: one ``http.client``
connection kept open between batches instead of a requests session, which reads the proxy
settings from the environment and merges its defaults again for every batch.

It reads the variables the library's exporter reads, with the same meanings (the
OpenTelemetry specification's, and the Python SDK's timeout in seconds): the endpoint,
headers, timeout, compression (gzip or deflate) and TLS certificates, signal-specific names
first. It retries 429, 502, 503 and 504 and a lost connection with exponential backoff and
jitter, honouring ``Retry-After``, within the timeout; a shutdown stops waiting at once.
``telemetry.otlp_exporter`` chooses it for spans over OTLP/HTTP unless
``OTLP_SPAN_EXPORTER=library`` or the environment asks for what only the library's exporter
does (``library_only``).
"""

import gzip
import http.client
import logging
import math
import os
import random
import ssl
import threading
import time
import zlib
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.re import parse_env_headers

from core import __version__

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_ENDPOINT = "http://localhost:4318/"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 6


def _setting(name: str, default: str | None = None) -> str | None:
    """OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>: the signal's own first."""
    signal, general = f"OTEL_EXPORTER_OTLP_TRACES_{name}", f"OTEL_EXPORTER_OTLP_{name}"
    return os.environ.get(signal) or os.environ.get(general) or default


def traces_endpoint() -> str:
    """The signal's endpoint as given, or the general one with /v1/traces appended (the spec's rule)."""
    if endpoint := os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return endpoint
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT
    return f"{base.removesuffix('/')}/v1/traces"


def library_only(endpoint: str) -> str | None:
    """What the environment asks of span export that only the library's exporter does, if anything:
    a proxy for ``endpoint`` (HTTP(S)_PROXY, NO_PROXY), a requests session from a credential
    provider, or the exporter's own metrics."""
    parts = urlsplit(endpoint)
    if parts.scheme in getproxies() and not proxy_bypass(parts.hostname or ""):
        return "a proxy"
    for name in (
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER",
        "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER",
    ):
        if os.environ.get(name):
            return name
    if os.environ.get("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "").strip().lower() == "true":
        return "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"
    return None


class OtlpHttpSpanExporter(SpanExporter):
    """OTLP/HTTP protobuf spans over one kept-open connection; the encoding is the library's."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
    ) -> None:
        self.endpoint = endpoint or traces_endpoint()
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an OTLP/HTTP endpoint: {self.endpoint!r}")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.timeout = timeout if timeout is not None else _timeout()
        self.compression = (compression or _setting("COMPRESSION", "none")).strip().lower()
        if self.compression not in ("none", "gzip", "deflate"):
            logger.warning("unknown OTLP compression %r: sending uncompressed", self.compression)
            self.compression = "none"
        self.headers = {
            "Content-Type": "application/x-protobuf",
            "User-Agent": f"jiwoo/{__version__} OTel-OTLP-Exporter-Python",
            **parse_env_headers(_setting("HEADERS", ""), liberal=True),
            **(headers or {}),
        }
        if self.compression != "none":
            self.headers["Content-Encoding"] = self.compression
        self._tls = self._tls_context() if self._https else None
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._shutdown = threading.Event()

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=_setting("CERTIFICATE"))
        certificate = _setting("CLIENT_CERTIFICATE")
        if certificate:
            context.load_cert_chain(certificate, _setting("CLIENT_KEY"))
        return context

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def export(self, spans) -> SpanExportResult:
        if self._shutdown.is_set():
            return SpanExportResult.FAILURE
        try:
            body = encode_spans(spans).SerializePartialToString()
        except Exception:
            logger.exception("could not encode a batch of %d spans", len(spans))
            return SpanExportResult.FAILURE
        if self.compression == "gzip":
            # zlib's own default level: nearly the size of level 9 for less of the export thread's CPU.
            body = gzip.compress(body, compresslevel=6)
        elif self.compression == "deflate":
            body = zlib.compress(body)
        with self._lock:
            return self._send(body, len(spans))

    def _send(self, body: bytes, count: int) -> SpanExportResult:
        deadline = time.monotonic() + self.timeout
        detail = "timed out"
        for attempt in range(MAX_ATTEMPTS):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            status, retry_after, detail = self._post(body, remaining)
            if status is not None and 200 <= status < 300:
                return SpanExportResult.SUCCESS
            if status is not None and status not in RETRYABLE_STATUSES:
                logger.error("the collector refused %d spans: HTTP %s %s", count, status, detail)
                return SpanExportResult.FAILURE
            backoff = retry_after if retry_after is not None else 2**attempt * random.uniform(0.8, 1.2)  # noqa: S311 (jitter)
            if attempt + 1 == MAX_ATTEMPTS or backoff > deadline - time.monotonic():
                break
            logger.warning("span export failed (%s), retrying in %.2f s", detail, backoff)
            if self._shutdown.wait(backoff):
                break
        logger.error("could not export %d spans: %s", count, detail)
        return SpanExportResult.FAILURE

    def _post(self, body: bytes, timeout: float) -> tuple[int | None, float | None, str]:
        """One request on the kept-open connection, reconnecting once when it had gone stale."""
        for fresh in (self._connection is None, True):
            if fresh:
                self._close()
                self._connection = self._connect(timeout)
            self._connection.timeout = timeout
            if self._connection.sock is not None:
                self._connection.sock.settimeout(timeout)
            try:
                self._connection.request("POST", self._path, body, self.headers)
                response = self._connection.getresponse()
                detail = response.read(1024).decode("utf-8", "replace")
                response.read()
            except TimeoutError:
                self._close()
                return None, None, "timed out"
            except (OSError, http.client.HTTPException) as error:
                self._close()
                if fresh:
                    return None, None, type(error).__name__
                continue  # a kept-open connection the collector had closed: once more, anew
            if response.will_close:
                self._close()
            return response.status, _retry_after(response.getheader("Retry-After")), detail or response.reason
        raise AssertionError("unreachable")

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def shutdown(self) -> None:
        self._shutdown.set()
        with self._lock:
            self._close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _timeout() -> float:
    """OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT in seconds, as the library's exporter reads it."""
    raw = _setting("TIMEOUT")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        logger.warning("invalid OTLP timeout %r: using %s s", raw, DEFAULT_TIMEOUT_SECONDS)
        return DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 and math.isfinite(value) else DEFAULT_TIMEOUT_SECONDS


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
