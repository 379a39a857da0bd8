"""Generates docs/asyncapi.yaml, the message contract for systems that do not use nameko.

    python -m services.bridge.asyncapi          # write docs/asyncapi.yaml
    python -m services.bridge.asyncapi --check  # exit 1 if the committed file is out of date

Every event type registered in ``common.contracts`` becomes a channel on ``baodao.public`` (routing
key = event type) with its JSON Schema; the commands on ``baodao.commands`` come from the bridge's
schemas; the dead-letter queue is described for operators. The tests fail if the committed
document differs from what this produces, so it cannot drift from the code.
"""

import sys

import yaml
from marshmallow import Schema, fields, validate

from common import config, contracts
from common.generated import write_or_check
from services.bridge import schemas
from services.bridge.domain import COMMAND_TYPES, MAX_ATTEMPTS

DOCUMENT = config.ROOT / "docs" / "asyncapi.yaml"
VERSION = "1.0.0"  # of the document; each message carries its own schema version
ENVELOPE_VERSION = 1

COMMAND_SUMMARIES = {
    "request.place": "为来电群众（如 12345 热线）下单：社区、服务菜单项、各栏答案、来电人",
    "request.confirm": "回访来电群众后确认服务完成并评价（只限本系统下的单）",
    "members.update": "按组织部党员花名册批量新增或更新党员（整批成功或整批不写入）",
}


# --- marshmallow → JSON Schema ----------------------------------------------------------------

def _field(field: fields.Field) -> dict:
    if isinstance(field, fields.Nested):
        nested = field.nested if isinstance(field.nested, type) else type(field.nested)
        out = object_schema(nested)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": _field(field.inner)}
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, fields.Number):
        out = {"type": "number"}
    elif isinstance(field, fields.DateTime):
        out = {"type": "string", "format": "date-time"}
    else:
        out = {"type": "string"}
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            out["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Equal):
            out["const"] = rule.comparable
        elif isinstance(rule, validate.Length):
            key = "Items" if out["type"] == "array" else "Length"
            if rule.min is not None:
                out[f"min{key}"] = rule.min
            if rule.max is not None:
                out[f"max{key}"] = rule.max
        elif isinstance(rule, validate.Range):
            if rule.min is not None:
                out["minimum"] = rule.min
            if rule.max is not None:
                out["maximum"] = rule.max
    if field.allow_none and "type" in out:
        out["type"] = [out["type"], "null"]
    if field.metadata.get("description"):
        out["description"] = field.metadata["description"]
    return out


def object_schema(schema_cls: type[Schema]) -> dict:
    schema = schema_cls()
    properties, required = {}, []
    for name, field in schema.fields.items():
        key = field.data_key or name
        properties[key] = _field(field)
        if field.required:
            required.append(key)
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if schema.unknown == "raise":
        out["additionalProperties"] = False
    if schema_cls.__doc__:
        out["description"] = " ".join(schema_cls.__doc__.split())
    return out


# --- the document --------------------------------------------------------------------------

def _event_payload(event_type: str, source: str, data_cls) -> dict:
    return {
        "type": "object",
        "required": ["event_id", "event_type", "version", "source", "occurred_at", "data"],
        "properties": {
            "event_id": {"type": "string", "maxLength": 80,
                         "description": "唯一编号；同一事件可能重复投递，消费方按它去重"},
            "event_type": {"type": "string", "const": event_type},
            "version": {"type": "integer", "const": ENVELOPE_VERSION,
                        "description": "只在不兼容的变更时加一；新增字段不改版本，消费方应忽略不认识的字段"},
            "source": {"type": "string", "const": source},
            "occurred_at": {"type": "string", "format": "date-time"},
            "data": object_schema(data_cls),
        },
    }


def _command_payload(command_type: str) -> dict:
    envelope = object_schema(schemas.CommandEnvelope)
    envelope["properties"]["command_type"] = {"type": "string", "const": command_type}
    envelope["properties"]["version"] = {"type": "integer", "const": 1}
    envelope["properties"]["data"] = object_schema(schemas.COMMAND_DATA[command_type])
    return envelope


def _amqp_exchange(name: str) -> dict:
    return {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}


def _message_name(kind: str) -> str:
    return "".join(part.title() for part in kind.replace("_", ".").split(".")) + f"V{ENVELOPE_VERSION}"


def build() -> dict:
    channels, messages = {}, {}
    for event_type in sorted(contracts.EVENT_TYPES):
        source = contracts.EVENT_SOURCES[event_type]
        data_cls = contracts.EVENT_TYPES[event_type]
        name = _message_name(event_type)
        summary = " ".join((data_cls.__doc__ or "").split()) or f"{source} 发布的 {event_type} 事件"
        messages[name] = {
            "name": event_type, "title": f"{event_type} v{ENVELOPE_VERSION}", "summary": summary,
            "contentType": "application/json",
            "payload": _event_payload(event_type, source, data_cls),
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type, "bindingVersion": "0.2.0"}},
        }
        channels[f"events/{event_type}"] = {
            "description": f"由 {source} 服务发布（在 {source}.events 与 baodao.public 上，路由键 {event_type}）",
            "bindings": {"amqp": {"is": "routingKey", "exchange": _amqp_exchange("baodao.public"),
                                  "bindingVersion": "0.2.0"}},
            "subscribe": {"operationId": f"receive_{event_type.replace('.', '_')}",
                          "summary": f"接收 {event_type}",
                          "message": {"$ref": f"#/components/messages/{name}"}},
        }
    for command_type in COMMAND_TYPES:
        name = _message_name("command." + command_type)
        messages[name] = {
            "name": command_type, "title": f"{command_type} 命令 v1", "summary": COMMAND_SUMMARIES[command_type],
            "contentType": "application/json", "payload": _command_payload(command_type),
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": command_type, "bindingVersion": "0.2.0"}},
        }
        channels[f"commands/{command_type}"] = {
            "description": (f"发给平台的命令：发布到交换机 baodao.commands，路由键 {command_type}，进入持久队列 "
                            "baodao.commands。command_id 是幂等键：同一系统重发同一 command_id 不会重复执行，"
                            "只会再收到一次结果（duplicate=true）。结果在 baodao.public 上以 command.succeeded "
                            "或 command.rejected 事件返回。格式错误或被拒的命令进入死信队列 "
                            f"baodao.dead-letters（x-reason 说明原因）；服务暂时不可用时最多重试 {MAX_ATTEMPTS} 次。"),
            "bindings": {"amqp": {"is": "routingKey", "exchange": _amqp_exchange("baodao.commands"),
                                  "bindingVersion": "0.2.0"}},
            "publish": {"operationId": f"send_{command_type.replace('.', '_')}",
                        "summary": COMMAND_SUMMARIES[command_type],
                        "message": {"$ref": f"#/components/messages/{name}"}},
        }
    messages["DeadLetter"] = {
        "name": "dead-letter", "title": "死信",
        "summary": "无法处理的消息，原样保留（消息体不变），原因在消息头 x-reason 中",
        "headers": {"type": "object", "required": ["x-reason"], "properties": {
            "x-reason": {"type": "string", "description": "英文错误代码加中文说明"},
            "x-service": {"type": "string"}, "x-handler": {"type": "string"},
            "x-failed-at": {"type": "string", "format": "date-time"},
            "x-attempts": {"type": "integer"}}},
        "payload": {"description": "原消息体，未改动"},
    }
    channels["baodao.dead-letters"] = {
        "description": "死信队列（供运维查看与重放）；绑定在交换机 baodao.dead-letter 上，路由键为原事件或命令类型",
        "bindings": {"amqp": {"is": "queue", "queue": {"name": "baodao.dead-letters", "durable": True,
                                                       "exclusive": False, "autoDelete": False, "vhost": "/"},
                              "bindingVersion": "0.2.0"}},
        "subscribe": {"operationId": "receive_dead_letters", "summary": "读取死信",
                      "message": {"$ref": "#/components/messages/DeadLetter"}},
    }
    return {
        "asyncapi": "2.6.0",
        "id": "urn:baodao:platform",
        "info": {
            "title": "宝岛 Baodao 消息接口",
            "version": VERSION,
            "description": (
                "给不使用 nameko 的外部系统（12345 热线、组织部党员系统等）的消息约定。\n\n"
                "- 事件：主题交换机 baodao.public 转发各服务的全部公开事件，路由键即事件类型"
                "（如 request.confirmed）；绑定自己的持久队列即可接收，例如路由键 request.# 或 #。"
                "消息体是纯 JSON（无任何类型标记），信封字段 event_id、event_type、version、source、"
                "occurred_at、data；data 的结构见各消息。同一事件可能投递不止一次，请按 event_id 去重。\n"
                "- 命令：发布到交换机 baodao.commands（路由键为命令类型），进入持久队列 baodao.commands；"
                "content_type 必须是 application/json，消息应设为持久（delivery_mode=2）。发送系统须先由平台"
                "管理员用 `baodao api-key create <系统名>` 登记，source 填该系统名。\n"
                "- 结果：每条命令在 baodao.public 上得到 command.succeeded 或 command.rejected 事件，"
                "按 command_id 对应。\n"
                "- 死信：格式错误、无法执行的消息进入 baodao.dead-letters，消息体原样保留，"
                "x-reason 头说明原因；不会丢失，也不会反复重投。"),
        },
        "servers": {"rabbitmq": {"url": "{host}:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                                 "description": "平台的 RabbitMQ；账号与虚拟主机由平台管理员分配",
                                 "variables": {"host": {"default": "localhost"}}}},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages},
    }


def render() -> str:
    header = "# Generated by `python -m services.bridge.asyncapi` from common/contracts; do not edit by hand.\n"
    return header + yaml.safe_dump(build(), sort_keys=False, allow_unicode=True, width=110)


def main(argv=None) -> int:
    return write_or_check(DOCUMENT, render(), "python -m services.bridge.asyncapi",
                          argv if argv is not None else sys.argv[1:],
                          f"{len(contracts.EVENT_TYPES)} events, {len(COMMAND_TYPES)} commands")

if __name__ == "__main__":
    sys.exit(main())
