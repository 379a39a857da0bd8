"""Operators' view of the dead-letter queue: what failed and why, and a replay once it is fixed.

Two kinds of letter arrive there: events a consumer could not apply (JSON envelopes, replayed to
their source's exchange — consumers deduplicate on ``event_id``) and commands from other systems
(the bytes as sent, JSON or not, replayed to ``baodao.commands`` — the bridge deduplicates on
``command_id``). Anything else is listed and kept.
"""

import json

import click
from kombu import Connection

from common.config import amqp_uri
from common.db import EventPublisher
from common.messaging import DEAD_LETTER_QUEUE
from common.topology import COMMANDS_EXCHANGE

COMMAND_HANDLER = "baodao.commands"


def _fetch(conn, limit):
    queue = DEAD_LETTER_QUEUE(conn.channel())
    queue.declare()
    messages = []
    while len(messages) < limit:
        message = queue.get(no_ack=False)
        if message is None:
            break
        messages.append(message)
    return messages


def _raw(message) -> bytes:
    body = message.body
    return body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")


def _json(message):
    """The letter's body as JSON, or None when it is not JSON (a command sent as anything else)."""
    try:
        return json.loads(_raw(message))
    except (UnicodeDecodeError, ValueError):
        return None


def _kind(message, body) -> str:
    headers = message.headers or {}
    if headers.get("x-handler") == COMMAND_HANDLER:
        return "command"
    if isinstance(body, dict) and {"event_id", "event_type", "source"} <= body.keys():
        return "event"
    return "unknown"


def _identity(body) -> str:
    if isinstance(body, dict):
        return str(body.get("event_id") or body.get("command_id") or "?")
    return "?"


@click.group(help="死信队列：处理失败的消息及原因")
def dlq():
    pass


@dlq.command("list", help="列出死信（不取走）")
@click.option("--limit", default=50, show_default=True)
def list_(limit):
    with Connection(amqp_uri()) as conn:
        messages = _fetch(conn, limit)
        for m in messages:
            headers = m.headers or {}
            body = _json(m)
            kind = {"event": "事件", "command": "指令", "unknown": "其他"}[_kind(m, body)]
            shape = "" if body is not None else f"（非 JSON，{len(_raw(m))} 字节，{m.content_type or '未注明类型'}）"
            click.echo(f"{headers.get('x-failed-at', '')}  {kind}  {m.delivery_info.get('routing_key')}  "
                       f"{_identity(body)}  {headers.get('x-service')}/{headers.get('x-handler')}{shape}")
            click.echo(f"    原因: {headers.get('x-reason')}")
        click.echo(f"共 {len(messages)} 条" + ("（可能还有更多）" if len(messages) == limit else ""))
        # closing without ack returns every message to the queue


@dlq.command(help="把死信重新发布：事件回到原来的事件交换机，指令回到 baodao.commands"
                  "（均按编号去重，重放不会重复生效）")
@click.option("--event-id", help="只重放这一条（事件的 event_id 或指令的 command_id）")
@click.option("--limit", default=1000, show_default=True)
def replay(event_id, limit):
    replayed = kept = 0
    with Connection(amqp_uri()) as conn:
        for m in _fetch(conn, limit):
            body = _json(m)
            kind = _kind(m, body)
            if (event_id is not None and _identity(body) != event_id) or kind == "unknown":
                kept += 1
                continue
            if kind == "event":
                EventPublisher(amqp_uri(), body["source"]).publish(body)
            else:
                headers = {k: v for k, v in (m.headers or {}).items() if not k.startswith("x-")}
                conn.Producer().publish(_raw(m), exchange=COMMANDS_EXCHANGE, declare=[COMMANDS_EXCHANGE],
                                        routing_key=m.delivery_info.get("routing_key") or "command.invalid",
                                        content_type=m.content_type or "application/octet-stream",
                                        content_encoding=m.content_encoding or "binary",
                                        headers=headers, delivery_mode=2)
            m.ack()
            replayed += 1
    click.echo(f"已重放 {replayed} 条，保留 {kept} 条")
