"""A local API Gateway HTTP API: HTTP requests in, payload 2.0 events to a Lambda handler out."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own request limit
API_ID = "local"
ACCOUNT_ID = "123456789012"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")

# A route's target: the payload 2.0 event in, the Lambda's proxy response dict out.
Target = Callable[[dict[str, Any]], dict[str, Any]]
# A local control endpoint: the JSON request body in, (status, JSON-able answer) out.
Control = Callable[[Any], tuple[int, Any]]
# A local page or file: (query, lower-cased headers) in, (status, headers, body) out.
Page = Callable[[dict[str, str], dict[str, str]], tuple[int, dict[str, str], bytes]]

POLL = 0.05  # seconds between shutdown checks: a quick Ctrl-C


def http_api_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes,
                   route_key: str, port: int, source_ip: str = "127.0.0.1",
                   now: float | None = None) -> dict[str, Any]:
    """The payload 2.0 event API Gateway would build for this request (stage $default)."""
    now = time.time() if now is None else now
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    for name, value in headers:  # API Gateway lower-cases names and joins repeats with commas
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    cookies = [c.strip() for c in merged.pop("cookie", "").split(";") if c.strip()]
    host = merged.get("host", f"127.0.0.1:{port}")
    merged.update({"x-forwarded-for": source_ip, "x-forwarded-port": str(port),
                   "x-forwarded-proto": "http",
                   "x-amzn-trace-id": f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}"})
    domain = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = merged.get("content-type", "")
    is_text = content_type.startswith(_TEXT_TYPES)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": merged.get("user-agent", "")},
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route_key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body.decode("utf-8", "replace") if is_text else \
            base64.b64encode(body).decode()
    return event


def proxy_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """How API Gateway turns a payload 2.0 Lambda result into an HTTP response."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), {str(k): str(v) for k, v in
                                       (result.get("headers") or {}).items()}, data


class TokenBucket:
    """Throttling (the stage's, or one route's own): `rate` requests per second on average,
    bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class Gateway:
    """HTTP API on 127.0.0.1: template routes to targets, plus /_local/ control endpoints."""

    def __init__(self, routes: dict[str, Target], port: int = 0,
                 throttle: TokenBucket | None = None,
                 route_throttles: dict[str, TokenBucket] | None = None,
                 controls: dict[str, Control] | None = None,
                 pages: dict[str, Page] | None = None):
        self.routes = routes
        self.controls = controls or {}
        self.pages = pages or {}  # GET only: the local console's page and files
        self.throttle = throttle
        self.route_throttles = route_throttles or {}  # route key -> its own bucket
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL,), daemon=True,
                                        name="gateway")

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever: only if it runs
            self.server.shutdown()
            self._thread.join(5)
        self.server.server_close()


def _handler_for(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "LocalHttpApi/1.0"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PAYLOAD:
                self._reply(413, {"Content-Type": "application/json"},
                            b'{"message":"Request Entity Too Large"}', close=True)
                return
            body = self.rfile.read(length)
            url = urlsplit(self.path)
            path = url.path
            page = gateway.pages.get(path) if method == "GET" else None
            if page is not None:
                self._reply(*page(dict(parse_qsl(url.query)),
                                  {k.lower(): v for k, v in self.headers.items()}))
                return
            control = gateway.controls.get(f"{method} {path}")
            if control is not None:
                self._control(control, body)
                return
            route_key = f"{method} {path}"
            target = gateway.routes.get(route_key)
            if target is None:
                self._reply(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
                return
            bucket = gateway.route_throttles.get(route_key, gateway.throttle)
            if bucket is not None and not bucket.take():
                self._reply(429, {"Content-Type": "application/json"},
                            b'{"message":"Too Many Requests"}')
                return
            event = http_api_event(method, self.path, list(self.headers.items()), body,
                                   route_key, gateway.port, self.client_address[0])
            try:
                status, headers, data = proxy_response(target(event))
            except Exception:  # what API Gateway answers when the function fails
                self._reply(500, {"Content-Type": "application/json"},
                            b'{"message":"Internal Server Error"}')
                return
            self._reply(status, headers, data)

        def _control(self, control: Control, body: bytes) -> None:
            try:
                request = json.loads(body or b"null")
                status, answer = control(request)
            except (ValueError, TypeError, KeyError) as exc:
                status, answer = 400, {"message": str(exc)}
            self._reply(status, {"Content-Type": "application/json"},
                        json.dumps(answer).encode())

        def _reply(self, status: int, headers: dict[str, str], data: bytes,
                   close: bool = False) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the stack prints one readable line per invocation instead."""

    return Handler
