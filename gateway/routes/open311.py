"""Open311 GeoReport v2 for other systems (12345 hotlines and any Open311 client).

Under ``/open311/v2/``, in Open311's own shapes: ``.json`` or ``.xml``, form-encoded POSTs, and
errors as ``[{"code": 400, "description": "..."}]``. ``jurisdiction_id`` is a community's id;
``api_key`` (made with ``baodao api-key create``) identifies the calling system and is needed to
post; GETs of requests are public as GeoReport v2 has them, but without a key they show only
non-personal fields (``open311.public_service_request``). Documented for people in docs/interop.md.
"""

import functools
import json
import logging
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Response

from common import assertions
from common.db import utcnow
from common.errors import AppError, NotFound, Unauthorized, ValidationFailed
from common.schemas import load
from common.validation import INT_MAX
from gateway.errors import status_of, translate
from gateway.http import route
from services.bridge import domain, open311, schemas

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default when no start_date is given
MAX_REQUESTS = 500  # dispatch's search cap


def _render(status: int, root: str, payload, fmt: str) -> Response:
    if fmt == "xml":
        return Response(open311.to_xml(root, payload), status=status, mimetype="text/xml")
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def _describe(err: AppError) -> str:
    """One line for Open311's ``description``: the message and, if any, what is wrong where."""
    parts = [err.message]
    for name, problems in (err.fields or {}).items():
        text = "、".join(map(str, problems)) if isinstance(problems, list) else str(problems)
        parts.append(f"{name}: {text}")
    return "；".join(parts)


def open311_error_response(err: AppError, path: str = "") -> Response:
    """Any failure under /open311/ as Open311's error list, in the format the path asks for."""
    fmt = "xml" if path.endswith(".xml") else "json"
    code = status_of(err)
    return _render(code, "errors", open311.errors(code, _describe(err)), fmt)


def open311_route(method, path, *, summary, root, status=200, description=""):
    """An Open311 endpoint: ``{format}`` is json or xml; AppErrors answer in Open311's error list."""

    def decorator(fn):
        @route(method, f"{PREFIX}/{path}", tag="open311", summary=summary, raw=True,
               status=status, description=description)
        @functools.wraps(fn)
        def handler(self, call, format, **values):
            fmt = format if format in ("json", "xml") else "json"
            try:
                if format not in ("json", "xml"):
                    raise NotFound(code="FORMAT_NOT_SUPPORTED", message="只支持 .json 和 .xml 两种格式")
                return _render(status, root, fn(self, call, **values), fmt)
            except Exception as exc:  # Open311 clients get Open311's error list, 500s included
                err = translate(exc)
                if err.code == "INTERNAL_ERROR":
                    log.error("unhandled error on %s", call.request.path, exc_info=exc)
                code = status_of(err)
                return _render(code, "errors", open311.errors(code, _describe(err)), fmt)

        return handler

    return decorator


def _system_actor(system: dict) -> dict:
    """Reading for an outside system: the gateway vouches for it; its communities are checked here."""
    return assertions.system("gateway") | {"name": system["system"]}


class Open311Routes:
    def _open311_system(self, api_key) -> dict:
        if not api_key:
            raise Unauthorized(code="API_KEY_REQUIRED", message="缺少 api_key：请向平台管理员申请接入密钥")
        system = self.bridge.check_api_key(assertions.system("gateway"), api_key)
        return {**system, "api_key": api_key}

    def _jurisdiction(self, value, system=None) -> int:
        """jurisdiction_id → a community we know; may be left out when a key covers one community."""
        if value in (None, ""):
            community_id = domain.default_community(system) if system else None
            if community_id is None:
                raise ValidationFailed(fields={"jurisdiction_id": ["必填：社区编号"]},
                                       message="请用 jurisdiction_id 指明社区")
        else:
            try:
                community_id = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed(fields={"jurisdiction_id": ["应为社区编号（整数）"]}) from None
            if not 0 < community_id <= INT_MAX:
                raise NotFound(code="JURISDICTION_NOT_FOUND", message="没有这个 jurisdiction_id")
        if system:
            domain.check_community(system, community_id)
        place = self.registration.get_place(community_id)
        if place.get("kind") not in ("community", "village", None):
            raise NotFound(code="JURISDICTION_NOT_FOUND", message="jurisdiction_id 不是一个社区")
        return community_id

    def _community_name(self, community_id: int, cache: dict) -> str:
        if community_id not in cache:
            try:
                cache[community_id] = self.registration.get_place(community_id)["name"]
            except AppError:
                cache[community_id] = ""
        return cache[community_id]

    def _agency(self, community_id: int, cache: dict) -> str:
        name = self._community_name(community_id, cache)
        return f"{name}党组织" if name else ""

    def _shown(self, request: dict, system, cache: dict) -> dict:
        """With a key: what the key allows; without: the public, non-personal view."""
        community_id = request["community_id"]
        if system is None:
            return open311.public_service_request(request, self._agency(community_id, cache),
                                                  self._community_name(community_id, cache))
        return open311.service_request(request, self._agency(community_id, cache))

    @staticmethod
    def _reader(system) -> dict:
        """Reading for an outside system (or the public): the gateway vouches; communities checked here."""
        return assertions.system("gateway") | {"name": system["system"] if system else "open311-public"}

    @open311_route("GET", "services.{format}", root="services",
                   summary="Open311：社区的服务清单（服务菜单）",
                   description="参数 jurisdiction_id：社区编号（api_key 只覆盖一个社区时可省略）。无需 api_key。")
    def open311_services(self, call):
        args = call.request.args
        system = self._open311_system(args["api_key"]) if args.get("api_key") else None
        community_id = self._jurisdiction(args.get("jurisdiction_id"), system)
        return [open311.service(item) for item in self.dispatch.list_menu(community_id)]

    @open311_route("GET", "services/{service_code}.{format}", root="service_definition",
                   summary="Open311：某项服务需要填写的栏目（service definition）")
    def open311_service_definition(self, call, service_code):
        args = call.request.args
        system = self._open311_system(args["api_key"]) if args.get("api_key") else None
        community_id = self._jurisdiction(args.get("jurisdiction_id"), system)
        item = next((i for i in self.dispatch.list_menu(community_id) if str(i["id"]) == service_code), None)
        if item is None:
            raise NotFound(code="SERVICE_NOT_FOUND", message=f"该社区没有编号为 {service_code} 的服务")
        return open311.definition(item)

    @open311_route("POST", "requests.{format}", root="service_requests", status=201,
                   summary="Open311：为来电群众提交服务请求（表单编码，需 api_key）",
                   description="application/x-www-form-urlencoded：api_key、jurisdiction_id、service_code、"
                               "first_name、last_name、phone、description、address_string、attribute[代码]=值。"
                               "可带 Idempotency-Key 请求头：重发不会重复下单，返回第一次的结果。")
    def open311_post_request(self, call):
        form = call.request.form
        attributes = open311.parse_attributes(form.items(multi=True))
        plain = {k: v for k, v in form.items() if not open311.ATTRIBUTE_KEY.match(k)}
        data = load(schemas.Open311Post(), plain)
        system = self._open311_system(data["api_key"])
        if not data["phone"]:
            raise ValidationFailed(fields={"phone": ["必填：来电群众的电话，用于回访"]}, message="请填写 phone")
        community_id = self._jurisdiction(data["jurisdiction_id"], system)
        name = (data["last_name"] + data["first_name"]).strip() or "来电群众"
        placed = self.bridge.place_request(assertions.system("gateway"), system["api_key"], {
            "community_id": community_id, "menu_item_id": data["service_code"], "fields": attributes,
            "description": data["description"], "address": data["address_string"],
            "caller": {"name": name, "phone": data["phone"]}}, idempotency_key=call.idempotency_key)
        return [{"service_request_id": str(placed["service_request_id"]), "token": placed["token"],
                 "service_notice": open311.SERVICE_NOTICE, "account_id": None}]

    @open311_route("GET", "requests.{format}", root="service_requests",
                   summary="Open311：查询服务请求（无 api_key 时只给办理状态，不含个人信息）",
                   description="参数：service_request_id（逗号分隔）、service_code、start_date、end_date、"
                               "status（open/closed）、jurisdiction_id、api_key（可选）。默认最近 90 天，最多 500 条。"
                               "不带 api_key 时只返回编号、服务代码、状态、办理说明、负责组织、时间和所在社区。")
    def open311_requests(self, call):
        query = load(schemas.Open311Query(), call.request.args.to_dict())
        system = self._open311_system(query["api_key"]) if query["api_key"] else None
        actor = self._reader(system)
        cache: dict = {}
        ids = open311.split_list(query["service_request_id"], as_int=True, name="service_request_id")
        ids = [i for i in ids if 0 < i <= INT_MAX]  # no request can have another id
        if ids:
            found = []
            for request_id in ids[:MAX_REQUESTS]:
                try:
                    request = self.dispatch.get_request(actor, request_id)
                    if system:
                        domain.check_community(system, request["community_id"])
                except AppError:
                    continue  # the spec lists what exists; unknown ids are left out
                found.append(self._shown(request, system, cache))
            return found
        community_id = self._jurisdiction(query["jurisdiction_id"], system)
        end = query["end_date"]
        start = query["start_date"] or (end or utcnow()) - DEFAULT_WINDOW
        search = {"community_id": community_id, "updated_after": start.isoformat(), "limit": MAX_REQUESTS}
        statuses = open311.split_list(query["status"])
        if statuses:
            search["states"] = open311.states_for(statuses)
        codes = set(open311.split_list(query["service_code"]))
        out = []
        for request in self.dispatch.search_requests(actor, search):
            if codes and str(request["menu_item_id"]) not in codes:
                continue
            requested = datetime.fromisoformat(request["created_at"]) if request.get("created_at") else None
            if requested and requested.tzinfo is None:
                requested = requested.replace(tzinfo=UTC)
            if requested and (requested < start or (end and requested > end)):
                continue
            out.append(self._shown(request, system, cache))
        return out

    @open311_route("GET", "requests/{service_request_id}.{format}", root="service_requests",
                   summary="Open311：某个服务请求的办理状态（无 api_key 时不含个人信息）")
    def open311_request(self, call, service_request_id):
        key = call.request.args.get("api_key")
        system = self._open311_system(key) if key else None
        request = self.dispatch.get_request(self._reader(system), service_request_id)
        if system:
            domain.check_community(system, request["community_id"])
        return [self._shown(request, system, {})]

    @open311_route("GET", "tokens/{token}.{format}", root="service_requests",
                   summary="Open311：由提交时的 token 查服务请求编号（需 api_key）")
    def open311_token(self, call, token):
        system = self._open311_system(call.request.args.get("api_key"))
        return self.bridge.find_token(assertions.system("gateway"), system["api_key"], token)
