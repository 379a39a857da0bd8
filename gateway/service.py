"""The gateway: the HTTP API for every client, one area of routes per mixin."""

import eventlet
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy

from common.config import SERVICES
from gateway import edge, openapi
from gateway.errors import MethodNotAllowed, NotFound, json_response
from gateway.http import ROUTES, Endpoint, route
from gateway.pages import console_page, docs_page
from gateway.routes.activities import ActivitiesRoutes
from gateway.routes.auth import AuthRoutes
from gateway.routes.dispatch import DispatchRoutes
from gateway.routes.notifications import NotificationRoutes
from gateway.routes.open311 import Open311Routes
from gateway.routes.records import RecordsRoutes
from gateway.routes.registration import RegistrationRoutes
from gateway.routes.scoring import ScoringRoutes

HEALTH_TIMEOUT = 3.0
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
        down = sorted(name for name, ok in checks.items() if ok != "ok")
        status = 200 if not down else 503
        return json_response(status, {"status": "ok" if not down else "degraded",
                                      "checks": checks, "down": down})

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
                getattr(self, name).ping()
            return "ok"
        except eventlet.Timeout:
            return "no reply"
        except Exception as exc:
            return f"error: {type(exc).__name__}"

    @route("GET", "/openapi.json", tag="system", summary="本接口的 OpenAPI 3 文档")
    def openapi_document(self, call):
        return openapi.build()

    @route("GET", "/", tag="system", summary="网页工作台（居民点单、党员接单、社区登记）", raw=True)
    def console(self, call):
        return console_page()

    @route("GET", "/docs", tag="system", summary="接口说明页（给人看的）", raw=True)
    def docs(self, call):
        return docs_page()

    @Endpoint.decorator("GET,POST,PUT,PATCH,DELETE", "/<path:path>")
    def not_found(self, request, path):
        """Unknown paths and methods answer in the one error format too (Open311's under /open311/)."""
        known = edge.methods_for(ROUTES, "/" + path)
        if known:
            error = MethodNotAllowed(message=f"该地址只支持 {'、'.join(sorted(known))} 请求")
            return edge.edge_error("/" + path, error, headers={"Allow": edge.allow_header(known)})
        return edge.edge_error("/" + path, NotFound(code="ROUTE_NOT_FOUND", message=f"没有这个接口：/{path[:200]}"))
