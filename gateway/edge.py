"""Limits at the edge, the same for every route, before any handler or service sees a request.

- body size (413), set on the request itself so form posts (Open311) are bounded too;
- JSON: strict UTF-8, no NaN/Infinity, nesting at most ``MAX_DEPTH``, no lone surrogates in
  any key or string, integers within 63 bits anywhere (free-form ``Dict`` answers included);
  typed fields get their narrower bounds from ``common/validation.py``;
- path ids beyond what a database column holds are "not found" (nothing can have that id);
- OPTIONS answers with ``Allow``; TRACE and unknown methods are 405 in JSON; every werkzeug
  error is rendered in the one error format (Open311's under ``/open311/``).
"""

import json
import os
import re

from nameko.web.server import WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from common.errors import NotFound, ValidationFailed
from common.validation import INT63_MAX, INT_MAX, SURROGATE
from gateway.errors import MethodNotAllowed, PayloadTooLarge, error_response, translate

MAX_BODY_BYTES = int(os.environ.get("GATEWAY_MAX_BODY_BYTES", str(256 * 1024)))
MAX_DEPTH = 32
SERVED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OPEN311_PREFIX = "/open311/"


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(message=f"提交的数据超过 {MAX_BODY_BYTES // 1024} KB 上限")


def _reject_constant(name):
    raise ValueError(name)


def parse_json_body(raw: bytes):
    """The request body as JSON within the edge limits, or a 400/413 in the one error format."""
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    try:
        text = raw.decode("utf-8")  # strict: invalid UTF-8 is malformed, not replaced
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep("") from None
    except ValueError:  # JSONDecodeError, bad UTF-8, NaN/Infinity, a 5,000-digit integer
        raise ValidationFailed(code="MALFORMED_JSON", message="请求体不是有效的 JSON") from None
    check_value(data)
    return data


def _too_deep(path):
    return ValidationFailed(code="JSON_TOO_DEEP", message=f"数据嵌套层数过多（最多 {MAX_DEPTH} 层）",
                            fields={path or "_schema": [f"嵌套不能超过 {MAX_DEPTH} 层"]})


def check_value(data):
    """Walk a parsed JSON value without recursion; the first problem found, with its path."""
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(path)
        if isinstance(value, dict):
            for key, item in value.items():
                if SURROGATE.search(key):
                    raise ValidationFailed(code="INVALID_TEXT", message="字段名含有无效的字符",
                                           fields={"_schema": ["字段名含有无效的字符（孤立的代理码位）"]})
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                stack.append((item, f"{path}.{n}" if path else str(n), depth + 1))
        elif isinstance(value, str):
            if SURROGATE.search(value):
                raise ValidationFailed(code="INVALID_TEXT", message="提交的文字含有无效的字符",
                                       fields={path or "_schema": ["含有无效的字符（孤立的代理码位）"]})
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -INT63_MAX - 1 <= value <= INT63_MAX:
                raise ValidationFailed(code="NUMBER_OUT_OF_RANGE", message="提交的数值超出允许范围",
                                       fields={path or "_schema": ["数值超出允许范围"]})


def check_path_ids(values: dict):
    """``/api/requests/99999999999999999999``: no record can have an id a column cannot hold."""
    for name, value in values.items():
        if isinstance(value, int) and not 0 <= value <= INT_MAX:
            raise NotFound(message="要找的记录不存在", fields={name: ["没有这个编号"]})


def _template_regex(template: str) -> re.Pattern:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+_id|id)\\\}", r"\\d+", pattern)
    pattern = re.sub(r"\\\{\w+\\\}", r"[^/]+", pattern)
    return re.compile(pattern + r"/?")


_COMPILED: dict[str, re.Pattern] = {}


def methods_for(routes, path: str) -> set[str]:
    """The methods declared for a concrete path (ids must be digits, as the router requires)."""
    found = set()
    for spec in routes:
        regex = _COMPILED.get(spec.path) or _COMPILED.setdefault(spec.path, _template_regex(spec.path))
        if regex.fullmatch(path):
            found.add(spec.method)
    return found


def allow_header(methods: set[str]) -> str:
    allowed = set(methods) | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


def edge_error(path: str, error, headers=None) -> Response:
    """The one error format, or Open311's list under ``/open311/``."""
    if path.startswith(OPEN311_PREFIX):
        from gateway.routes.open311 import open311_error_response  # the routes import this module

        response = open311_error_response(error, path)
    else:
        response = error_response(error)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class EdgeApp(WsgiApp):
    """nameko's WSGI app with the edge rules applied before routing."""

    def __init__(self, server, routes):
        super().__init__(server)
        self.routes = routes

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        request.max_content_length = MAX_BODY_BYTES  # form posts too: werkzeug answers 413
        request.max_form_memory_size = MAX_BODY_BYTES
        path = request.path
        method = request.method.upper()
        try:
            if method == "OPTIONS":
                rv = self._options(path)
            elif method not in SERVED_METHODS and method != "HEAD":
                known = methods_for(self.routes, path)
                rv = edge_error(path, MethodNotAllowed(message=f"不支持 {method[:20]} 请求方法"),
                                headers={"Allow": allow_header(known)} if known else None)
            elif request.content_length and request.content_length > MAX_BODY_BYTES:
                rv = edge_error(path, too_large())
            else:
                adapter = self.url_map.bind_to_environ(environ)
                provider, values = adapter.match()
                request.path_values = values
                rv = provider.handle_request(request)
        except HTTPException as exc:
            rv = edge_error(path, translate(exc))
        return rv(environ, start_response)

    def _options(self, path):
        known = methods_for(self.routes, path)
        if not known:
            return edge_error(path, NotFound(code="ROUTE_NOT_FOUND", message=f"没有这个接口：{path[:200]}"))
        return Response(status=204, headers={"Allow": allow_header(known)})
