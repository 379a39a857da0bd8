"""The gateway's routing: every endpoint declared once, with who may call it and its schemas.

``@route`` turns a method into a nameko ``@http`` entrypoint that authenticates the caller,
checks the role against the one policy table (``authz/table.py``: the operation
``<tag>.<handler name>``), parses and validates the JSON body and the query string, calls the handler,
and renders the result or the error in the one error format. The same declarations feed
``/openapi.json`` (see ``gateway/openapi.py``), so the document cannot drift from the code.
"""

import functools
import logging
import os
import re
from dataclasses import dataclass, field

import eventlet
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.wrappers import Response

import authz
from common import assertions
from common.errors import AppError, Forbidden, Unauthorized, ValidationFailed
from common.schemas import load
from gateway import edge, session, tokens, web
from gateway.errors import (
    ServiceUnavailable,
    error_response,
    json_response,
    translate,
)
from gateway.observe import REQUEST_ID_KEY, ROUTE_KEY, AccessLog

log = logging.getLogger(__name__)

MAX_BODY_BYTES = edge.MAX_BODY_BYTES
RPC_TIMEOUT = float(os.environ.get("RPC_TIMEOUT", "10"))
LISTEN_BACKLOG = int(os.environ.get("GATEWAY_LISTEN_BACKLOG", "2048"))


@dataclass
class RouteSpec:
    method: str
    path: str
    tag: str
    summary: str
    action: str
    roles: tuple
    body: type | None = None
    query: type | None = None
    response: object = None
    status: int = 200
    description: str = ""
    raw: bool = False
    params: list = field(default_factory=list)


ROUTES: list[RouteSpec] = []


@dataclass
class Call:
    """What a handler gets: the authenticated actor, the validated body and query, the request."""

    actor: dict | None
    body: dict
    query: dict
    request: object

    @property
    def idempotency_key(self) -> str | None:
        """The client's ``Idempotency-Key`` header: a retried command must not act twice."""
        key = self.request.headers.get("Idempotency-Key")
        return key.strip()[:100] if key else None


class GatewayServer(WebServer):
    """nameko's web server with a deep accept backlog.

    eventlet listens with a backlog of 50: a burst of sign-ups (thousands of clients at once)
    overflows it and the kernel drops connections, which clients only retry seconds later.
    SO_REUSEPORT (eventlet's default) only when several gateways are meant to share the port
    (``baodao run --scale gateway=N``): otherwise a second platform would silently share it.
    """

    def start(self):
        if not self._starting:
            self._starting = True
            self._sock = eventlet.listen(self.bind_addr, backlog=LISTEN_BACKLOG,
                                         reuse_port=os.environ.get("GATEWAY_REUSE_PORT") == "1")
            self._sock.settimeout(None)  # as nameko does: kombu issue 838
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)

    def get_wsgi_app(self):
        return AccessLog(edge.EdgeApp(self, ROUTES))  # size, OPTIONS/TRACE, werkzeug errors in our format


    def context_data_from_headers(self, request):
        return {"request_id": request.environ.get(REQUEST_ID_KEY)}  # travels with every RPC


class Endpoint(HttpRequestHandler):
    """nameko's http entrypoint, answering errors in our format instead of its own."""

    server = GatewayServer()

    def handle_request(self, request):
        request.environ[ROUTE_KEY] = self.url  # the template, for the access line and metrics
        return web.secure(super().handle_request(request))

    def response_from_exception(self, exc):
        error = translate(exc)
        if error.code == "INTERNAL_ERROR":
            log.error("unhandled error on %s %s", self.method, self.url, exc_info=exc)
        return error_response(error)


def authenticate(service, token: str) -> dict:
    """THE check of a sign-in token, however it arrived (header, cookie): signature, expiry,
    issuer, audience, and the account's current token version. Returns the principal."""
    claims = tokens.verify(token)
    service.sessions.check(claims, service.registration)
    return claims


def _actor(service, request) -> dict:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[len("Bearer "):].strip()
    else:
        token = session.token_from_cookie(request)  # the browser console's session
    if not token:
        raise Unauthorized(message="请先登录（请求头缺少 Authorization: Bearer 凭证）")
    principal = authenticate(service, token)
    # what the services see: the principal, signed for this request's calls (common/assertions.py)
    return assertions.attach(principal, "gateway")


def _json_body(request) -> dict:
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise edge.too_large()
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if not raw.strip():
        return {}
    data = edge.parse_json_body(raw)  # size, UTF-8, depth, surrogates, 63-bit integers
    if not isinstance(data, dict):
        raise ValidationFailed(code="MALFORMED_JSON", message="请求体应为 JSON 对象")
    return data


def _werkzeug_path(path: str) -> str:
    """``/api/requests/{request_id}`` → ``/api/requests/<int:request_id>`` (ids are integers)."""
    return re.sub(r"\{(\w+_id|id)\}", r"<int:\1>", re.sub(r"\{(\w+)\}(?<!_id\})", r"<\1>", path))


def route(method, path, *, tag, summary, body=None, query=None, response=None,
          status=200, description="", raw=False, action=None):
    """Declare an endpoint. Who may call it is the policy row ``action`` (default ``<tag>.<name>``)."""

    def decorator(fn):
        name = action or f"{tag}.{fn.__name__}"
        if not authz.known(name):
            raise TypeError(f"route {method} {path}: no row {name!r} in authz/table.py — add who may call it")
        spec = RouteSpec(method, path, tag, summary, name, authz.roles(name), body, query, response, status,
                         description, raw)
        ROUTES.append(spec)
        # built once per route, not per request (marshmallow 4 schemas keep no per-call state)
        body_schema, query_schema = spec.body and spec.body(), spec.query and spec.query()

        @functools.wraps(fn)
        def handler(self, request, **path_values):
            try:
                actor = None
                if spec.roles:
                    actor = _actor(self, request)
                    if not authz.may_attempt(actor, spec.action):
                        raise Forbidden(message="您的角色不能访问此功能")
                edge.check_path_ids(path_values)
                data = _json_body(request) if spec.body else {}
                if spec.body:
                    # validate here for a fast, documented 400; forward the body as the client
                    # sent it, since the service loads it again with the same schema
                    load(body_schema, data)
                if spec.query:
                    params = load(query_schema, request.args.to_dict())
                else:
                    params = {}
                call = Call(actor=actor, body=data, query=params, request=request)
                with eventlet.Timeout(RPC_TIMEOUT, ServiceUnavailable(
                        code="UPSTREAM_TIMEOUT", message="后台服务响应超时，请稍后重试")):
                    result = fn(self, call, **path_values)
            except AppError as err:
                return edge.edge_error(request.path, err)  # Open311's format under /open311/
            if isinstance(result, Response) or spec.raw:
                return result
            return json_response(spec.status, result)

        return Endpoint.decorator(method, _werkzeug_path(path))(handler)

    return decorator
