"""What an operator sees of the gateway: one log line and one latency sample per HTTP request.

:class:`AccessLog` wraps the WSGI app: it gives each request its id (``X-Request-Id``, echoed
back), which the gateway's workers pass to every RPC in nameko's context data, and logs the
route *template* (never the raw path or query: they can carry personal data).
"""

import logging
import time

from common import metrics
from common.logs import new_request_id, request_context

log = logging.getLogger("baodao.http")

ROUTE_KEY = "baodao.route"
REQUEST_ID_KEY = "baodao.request_id"


class AccessLog:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request_id = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        seen = {}

        def start(status, headers, exc_info=None):
            seen["status"] = status
            headers.append(("X-Request-Id", request_id))
            return start_response(status, headers, exc_info)

        with request_context(request_id):
            body = self.app(environ, start)
            elapsed = time.perf_counter() - started
            status = int(seen.get("status", "500").split()[0])
            route = environ.get(ROUTE_KEY, "(edge)")  # answered before routing: OPTIONS, 413, 405
            method = environ.get("REQUEST_METHOD", "?")
            metrics.HTTP_SECONDS.labels(route, method, str(status)).observe(elapsed)
            log.log(logging.ERROR if status >= 500 else logging.INFO,
                    "http %s %s %d %.0fms", method, route, status, elapsed * 1000)
        return body
