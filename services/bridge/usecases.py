"""The bridge's use cases: API keys, requests placed for outside systems, and the commands that
arrive on ``baodao.commands`` — each carried out once per (system, idempotency key)."""

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common import assertions
from common import errors as app_errors
from common.db import Store, utcnow
from common.errors import AppError, Forbidden, NotFound, Unauthorized, ValidationFailed
from common.schemas import load
from services.bridge import domain, open311, schemas
from services.bridge.models import ApiKey, Command

log = logging.getLogger(__name__)


class DeadLetter(Exception):
    """A command that can never succeed as sent; ``reason`` goes into the x-reason header."""

    def __init__(self, reason: str, routing_key: str = "command.invalid"):
        super().__init__(reason)
        self.reason = reason
        self.routing_key = routing_key


@dataclass
class Ports:
    """The services the bridge drives (nameko RpcProxies in the service, anything alike in tests)."""

    dispatch: object
    registration: object


# --- API keys -----------------------------------------------------------------------------

def create_api_key(store: Store, payload: dict) -> dict:
    data = load(schemas.CreateApiKey, payload)
    api_key = domain.new_api_key()
    with store.uow() as uow:
        uow.session.add(ApiKey(system=data["system"], key_hash=domain.hash_api_key(api_key),
                               key_prefix=api_key[:10], communities=data["communities"]))
        uow.commit()
    return schemas.ApiKeyCreated().dump({**data, "api_key": api_key, "prefix": api_key[:10]})


def check_api_key(store: Store, api_key) -> dict:
    if not isinstance(api_key, str) or not api_key:
        raise Unauthorized(code="API_KEY_REQUIRED", message="缺少 api_key：请向平台管理员申请接入密钥")
    with store.uow() as uow:
        key = uow.session.scalar(select(ApiKey).where(ApiKey.key_hash == domain.hash_api_key(api_key),
                                                      ApiKey.revoked_at.is_(None)))
        if key is None:
            raise Unauthorized(code="API_KEY_INVALID", message="api_key 无效或已停用，请联系平台管理员")
        return _principal(key.system, [key.communities])


def revoke_api_keys(store: Store, system: str) -> int:
    with store.uow() as uow:
        keys = uow.session.scalars(select(ApiKey).where(ApiKey.system == system,
                                                        ApiKey.revoked_at.is_(None))).all()
        for key in keys:
            key.revoked_at = utcnow()
        uow.commit()
    return len(keys)


def _principal(system: str, scopes: list) -> dict:
    communities = None if any(s is None for s in scopes) else sorted({c for s in scopes for c in s})
    return {"system": system, "user_id": None, "role": "system", "name": system, "communities": communities}


def _system_by_name(store: Store, name: str) -> dict | None:
    """AMQP senders are known by name (the broker account authenticates them); scope from their keys."""
    with store.uow() as uow:
        scopes = uow.session.scalars(select(ApiKey.communities).where(ApiKey.system == name,
                                                                      ApiKey.revoked_at.is_(None))).all()
    return _principal(name, list(scopes)) if scopes else None


def _actor(system: dict) -> dict:
    """How the bridge appears to dispatch and registration: a system acting for a caller."""
    return assertions.system("bridge") | {"name": system["system"]}


# --- carrying a command out -----------------------------------------------------------------

def _place(ports: Ports, system: dict, data: dict, key: str) -> dict:
    domain.check_community(system, data["community_id"])
    menu = ports.dispatch.list_menu(data["community_id"])
    item = next((i for i in menu if i["id"] == data["menu_item_id"]), None)
    if item is None:
        raise NotFound(code="SERVICE_NOT_FOUND", message="该社区的服务菜单中没有这一项",
                       fields={"menu_item_id": ["不存在或已下架"]})
    definitions = item.get("fields") or []
    answers = domain.coerce_fields(definitions, data["fields"])
    answers, description = domain.fill_address(definitions, answers, data["description"], data["address"])
    request = ports.dispatch.submit_request(
        _actor(system),
        {"menu_item_id": item["id"], "fields": answers, "description": description,
         "caller": data["caller"], "community_id": data["community_id"]},
        idempotency_key=f"bridge:{system['system']}:{key}")
    return {"service_request_id": request["id"], "token": key, "state": request["state"],
            "status": open311.status_of(request["state"])}


def _confirm(store: Store, ports: Ports, system: dict, data: dict, key: str) -> dict:
    request_id = data["service_request_id"]
    with store.uow() as uow:
        placed = uow.session.scalar(select(Command.id).where(
            Command.system == system["system"], Command.service_request_id == request_id,
            Command.command_type == "request.place", Command.status == "succeeded"))
    if placed is None:
        raise Forbidden(code="NOT_PLACED_BY_SYSTEM", message="只能确认本系统提交的服务请求")
    request = ports.dispatch.confirm(_actor(system), request_id,
                                     {"rating": data["rating"], "comment": data["comment"]},
                                     idempotency_key=f"bridge:{system['system']}:{key}")
    return {"service_request_id": request["id"], "state": request["state"],
            "status": open311.status_of(request["state"])}


def _update_members(ports: Ports, system: dict, data: dict) -> dict:
    rows = [{**r, "community_id": r.get("community_id", data["community_id"])} for r in data["rows"]]
    domain.check_roster_scope(system, rows)
    result = ports.registration.import_roster(_actor(system), {"rows": data["rows"], "source": system["system"],
                                                               "community_id": data["community_id"]})
    if result.get("errors"):
        raise ValidationFailed(
            code="ROSTER_INVALID", message=f"花名册有 {len(result['errors'])} 行不合格，整批未导入，请改正后重发",
            fields={"rows": {str(e.get("row")): [e.get("reason", "")] for e in result["errors"]}})
    return {k: result.get(k, 0) for k in ("created", "updated", "unchanged")}


def _error_record(err: AppError) -> dict:
    return {"kind": type(err).__name__, "code": err.code, "message": err.message, "fields": err.fields,
            "details": err.details}


def _rebuild(error: dict) -> AppError:
    cls = getattr(app_errors, error.get("kind", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, AppError)):
        cls = AppError
    return cls(code=error["code"], message=error["message"], fields=error.get("fields"),
               details=error.get("details"))


def _snapshot(command: Command) -> dict:
    """A plain copy, usable after its session has closed."""
    return {k: getattr(command, k) for k in ("system", "command_key", "command_type", "status", "result",
                                             "error", "service_request_id")}


def _prior(store: Store, system: str, key: str) -> dict | None:
    with store.uow() as uow:
        command = uow.session.scalar(select(Command).where(Command.system == system, Command.command_key == key))
        return _snapshot(command) if command else None


def _outcome_event(command: dict, duplicate: bool) -> tuple[str, dict]:
    base = {"command_id": command["command_key"], "command_type": command["command_type"],
            "system": command["system"], "duplicate": duplicate}
    if command["status"] == "succeeded":
        return "command.succeeded", {**base, "result": command["result"]}
    error = command["error"] or {}
    return "command.rejected", {**base, "code": error.get("code", "ERROR"), "message": error.get("message", ""),
                                "fields": error.get("fields") or {}}


def _record(store: Store, system: str, key: str, command_type: str, channel: str, *, result=None,
            error: AppError | None = None, emit: bool) -> dict:
    """The outcome and its event in one commit: a crash before it means the command runs again
    (downstream dedupes on our idempotency key); after it, a resend finds the record."""
    command = Command(system=system, command_key=key, command_type=command_type, channel=channel,
                      status="rejected" if error else "succeeded", result=result or {},
                      error=_error_record(error) if error else None,
                      service_request_id=(result or {}).get("service_request_id"))
    with store.uow() as uow:
        uow.session.add(command)
        uow.session.flush()
        snapshot = _snapshot(command)
        if emit:
            uow.emit(*_outcome_event(snapshot, duplicate=False))
        uow.commit()
    return snapshot


# --- Open311 ---------------------------------------------------------------------------------

def place_request(store: Store, ports: Ports, system: dict, payload: dict, idempotency_key=None) -> dict:
    """POST requests.json: place a request for a caller; a repeated Idempotency-Key answers the first result."""
    system = load(schemas.SystemPrincipal, system)
    data = load(schemas.PlaceRequest, payload)
    key = (idempotency_key or "")[:100] or domain.new_token()
    prior = _prior(store, system["system"], key)
    if prior is None:
        try:
            result = _place(ports, system, data, key)
        except AppError as err:
            _safe_record(store, system["system"], key, "request.place", "open311", error=err)
            raise
        prior = _safe_record(store, system["system"], key, "request.place", "open311", result=result)
        if prior is None:  # a concurrent twin with the same key recorded first
            prior = _prior(store, system["system"], key)
        else:
            return schemas.Placed().dump({**result, "duplicate": False})
    if prior["status"] == "rejected":
        raise _rebuild(prior["error"])
    return schemas.Placed().dump({**prior["result"], "duplicate": True})


def _safe_record(store, system, key, command_type, channel, **kw) -> dict | None:
    try:
        return _record(store, system, key, command_type, channel, emit=channel == "amqp", **kw)
    except IntegrityError:
        return None


def find_token(store: Store, system: dict, token: str) -> list[dict]:
    system = load(schemas.SystemPrincipal, system)
    with store.uow() as uow:
        command = uow.session.scalar(select(Command).where(
            Command.system == system["system"], Command.command_key == str(token)[:120],
            Command.command_type == "request.place"))
        command = _snapshot(command) if command else None
    if command is None:
        raise NotFound(code="TOKEN_NOT_FOUND", message="没有这个 token 对应的服务请求")
    if command["status"] != "succeeded":
        raise _rebuild(command["error"])
    return [{"service_request_id": str(command["service_request_id"]), "token": command["command_key"]}]


# --- AMQP commands ---------------------------------------------------------------------------

def parse_command(raw: bytes, content_type: str | None) -> dict:
    if content_type and content_type not in ("application/json", "text/json"):
        raise DeadLetter(f"UNSUPPORTED_CONTENT_TYPE: {content_type}（应为 application/json）")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DeadLetter(f"MALFORMED_JSON: {err}") from None
    if not isinstance(body, dict):
        raise DeadLetter("MALFORMED_COMMAND: 消息体应为 JSON 对象")
    try:
        return load(schemas.CommandEnvelope, body)
    except ValidationFailed as err:
        raise DeadLetter(f"INVALID_ENVELOPE: {json.dumps(err.fields, ensure_ascii=False)}",
                         routing_key=str(body.get("command_type") or "command.invalid")) from None


def run_command(store: Store, ports: Ports, raw: bytes, content_type: str | None = "application/json",
                sender: str | None = None) -> dict:
    """Carry out one command from ``baodao.commands``.

    Returns the outcome event's data. Raises DeadLetter for a message that can never succeed
    (after recording and announcing the rejection when the sender can be told); lets transient
    failures (a service down, the database unreachable) propagate so the caller retries.
    """
    command = parse_command(raw, content_type)
    kind, key = command["command_type"], command["command_id"]
    # finding 10: the sender is the broker account (RabbitMQ's validated user_id), not the body's word
    if not sender:
        raise DeadLetter("UNAUTHENTICATED_SENDER: 命令须以系统自己的消息中间件账号发送，并带 user_id 属性",
                         routing_key=kind)
    if command["source"] != sender:
        raise DeadLetter(f"SOURCE_MISMATCH: 消息体的 source“{command['source']}”与发送账号“{sender}”不符",
                         routing_key=kind)
    system = _system_by_name(store, sender)
    if system is None:
        raise DeadLetter(f"UNKNOWN_SYSTEM: 未登记的系统“{sender}”，请先用 baodao api-key create 登记",
                         routing_key=kind)
    prior = _prior(store, system["system"], key)
    if prior is not None:
        return _announce_duplicate(store, prior)
    try:
        data = load(schemas.COMMAND_DATA[kind](), command["data"])
        if kind == "request.place":
            result = _place(ports, system, data, key)
        elif kind == "request.confirm":
            result = _confirm(store, ports, system, data, key)
        else:
            result = _update_members(ports, system, data)
    except AppError as err:
        recorded = _safe_record(store, system["system"], key, kind, "amqp", error=err)
        if recorded is None:
            return _announce_duplicate(store, _prior(store, system["system"], key))
        detail = f" {json.dumps(err.fields, ensure_ascii=False)}" if err.fields else ""
        raise DeadLetter(f"{err.code}: {err.message}{detail}", routing_key=kind) from None
    recorded = _safe_record(store, system["system"], key, kind, "amqp", result=result)
    if recorded is None:
        return _announce_duplicate(store, _prior(store, system["system"], key))
    return _outcome_event(recorded, duplicate=False)[1]


def _announce_duplicate(store: Store, prior: dict) -> dict:
    """A resend changes nothing, but its sender may have missed our answer: say it again."""
    event_type, data = _outcome_event(prior, duplicate=True)
    with store.uow() as uow:
        uow.emit(event_type, data)
        uow.commit()
    return data
