"""The gateway: the HTTP API for every client, one area of routes per mixin."""

import functools
import os

import eventlet
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Response

from common import metrics
from common.config import SERVICES
from common.logs import RequestContext
from gateway import edge, openapi, pages, web
from gateway.errors import MethodNotAllowed, NotFound, json_response
from gateway.http import ROUTES, Endpoint, route
from gateway.pages import docs_page
from gateway.routes.activities import ActivitiesRoutes
from gateway.routes.auth import AuthRoutes
from gateway.routes.dispatch import DispatchRoutes
from gateway.routes.notifications import NotificationRoutes
from gateway.routes.open311 import Open311Routes
from gateway.routes.records import RecordsRoutes
from gateway.routes.registration import RegistrationRoutes
from gateway.routes.scoring import ScoringRoutes
from gateway.sessions import Sessions

HEALTH_TIMEOUT = 3.0
OUTBOX_LAG_WARN_SECONDS = float(os.environ.get("OUTBOX_LAG_WARN_SECONDS", "60"))
AREAS = (AuthRoutes, RegistrationRoutes, DispatchRoutes, ActivitiesRoutes, ScoringRoutes, NotificationRoutes,
         Open311Routes, RecordsRoutes)


def _check_no_shadowed_handlers(areas):
    """Areas are mixed into one class: two handlers with one name would silently hide one."""
    owner = {}
    for area in areas:
        for attr in vars(area):
            if not attr.startswith("__") and attr in owner:
                raise TypeError(f"gateway handler {attr!r} is defined by both {owner[attr]} and {area.__name__}")
            owner[attr] = area.__name__


_check_no_shadowed_handlers(AREAS)


class GatewayService(*AREAS):
    name = "gateway"
    config = Config()
    request_context = RequestContext()  # the request id on every log line of a request's worker

    sessions = Sessions()  # token versions (gateway/sessions.py)
    registration = RpcProxy("registration")
    dispatch = RpcProxy("dispatch")
    activities = RpcProxy("activities")
    scoring = RpcProxy("scoring")
    notify = RpcProxy("notify")
    bridge = RpcProxy("bridge")
    records = RpcProxy("records")

    @route("GET", "/health", tag="system", summary="运行状态：消息中间件与各服务是否可达",
           raw=True)
    def health(self, call):
        checks = {"broker": self._check_broker()}
        pool = eventlet.GreenPool()
        results = pool.imap(self._check_service, SERVICES)
        checks.update(dict(zip(SERVICES, results, strict=True)))
        outbox = {name: result.pop("outbox") for name, result in checks.items() if isinstance(result, dict)}
        checks = {name: "ok" if isinstance(result, dict) else result for name, result in checks.items()}
        down = sorted(name for name, ok in checks.items() if ok != "ok")
        status = 200 if not down else 503
        lagging = sorted(name for name, lag in outbox.items() if lag["oldest_age_seconds"] > OUTBOX_LAG_WARN_SECONDS)
        return json_response(status, {"status": "ok" if not down else "degraded",
                                      "checks": checks, "down": down, "outbox": outbox, "outbox_lagging": lagging})

    def _check_broker(self) -> str:
        try:
            with Connection(self.config["AMQP_URI"], connect_timeout=HEALTH_TIMEOUT) as conn:
                conn.ensure_connection(max_retries=1)
            return "ok"
        except Exception as exc:  # any failure is "down"; the reason is shown to operators
            return f"unreachable: {type(exc).__name__}"

    def _check_service(self, name: str) -> str:
        try:
            with eventlet.Timeout(HEALTH_TIMEOUT):
                answer = getattr(self, name).ping()
            return {"outbox": answer.get("outbox") or {"pending": 0, "oldest_age_seconds": 0.0}}
        except eventlet.Timeout:
            return "no reply"
        except Exception as exc:
            return f"error: {type(exc).__name__}"

    @route("GET", "/openapi.json", tag="system", summary="本接口的 OpenAPI 3 文档")
    def openapi_document(self, call):
        return openapi.build()

    @route("GET", "/", tag="system", summary="网页工作台（社区、网格、街道、区县、单位工作人员）", raw=True)
    def console(self, call):
        return web.page("index.html")

    @route("GET", "/h5/", tag="system", summary="手机页面（居民与党员）", raw=True)
    def h5(self, call):
        return web.page("h5/index.html")

    @Endpoint.decorator("GET", "/assets/<path:path>")
    def web_asset(self, request, path):
        return web.asset(request, "assets/" + path)

    @Endpoint.decorator("GET", "/h5/<path:path>")
    def h5_page(self, request, path):
        """H5 deep links (its router's history mode) get the H5 entry page."""
        return web.page("h5/index.html")

    @route("GET", "/docs", tag="system", summary="接口说明页（给人看的）", raw=True)
    def docs(self, call):
        return docs_page()

    @route("GET", "/docs/assets/{name}", tag="system", summary="接口说明页的脚本与样式（Swagger UI）", raw=True)
    def docs_asset(self, call, name):
        return pages.docs_asset(name) or edge.edge_error(call.request.path, NotFound(
            code="ROUTE_NOT_FOUND", message="没有这个文件"))

    @route("GET", "/asyncapi", tag="system", summary="消息接口说明页（给外部系统的开发者看）", raw=True)
    def asyncapi_page(self, call):
        return pages.asyncapi_page(_asyncapi())

    @route("GET", "/asyncapi.json", tag="system", summary="消息接口的 AsyncAPI 2 文档")
    def asyncapi_document(self, call):
        return _asyncapi()

    @route("GET", "/metrics", tag="system", summary="Prometheus 指标（本网关进程）", raw=True)
    def metrics(self, call):
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @route("GET", "/favicon.ico", tag="system", summary="网站图标", raw=True)
    def favicon(self, call):
        return pages.favicon()

    @Endpoint.decorator("GET,POST,PUT,PATCH,DELETE", "/<path:path>")
    def not_found(self, request, path):
        """Unknown paths and methods answer in the one error format too (Open311's under /open311/)."""
        if web.wants_page(request, path):
            return web.page("index.html")  # a console deep link: its router takes it from here
        known = edge.methods_for(ROUTES, "/" + path)
        if known:
            error = MethodNotAllowed(message=f"该地址只支持 {'、'.join(sorted(known))} 请求")
            return edge.edge_error("/" + path, error, headers={"Allow": edge.allow_header(known)})
        return edge.edge_error("/" + path, NotFound(code="ROUTE_NOT_FOUND", message=f"没有这个接口：/{path[:200]}"))


@functools.cache
def _asyncapi() -> dict:
    from services.bridge import asyncapi  # built from the contracts, as docs/asyncapi.yaml is

    return asyncapi.build()
