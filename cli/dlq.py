"""Operators' view of the dead-letter queue: what failed and why, and a replay once it is fixed."""

import json

import click
from kombu import Connection

from common.config import amqp_uri
from common.db import EventPublisher
from common.messaging import DEAD_LETTER_QUEUE


def _fetch(conn, limit):
    queue = DEAD_LETTER_QUEUE(conn.channel())
    queue.declare()
    messages = []
    while len(messages) < limit:
        message = queue.get(no_ack=False, accept=["json"])
        if message is None:
            break
        messages.append(message)
    return messages


@click.group(help="死信队列：处理失败的消息及原因")
def dlq():
    pass


@dlq.command("list", help="列出死信（不取走）")
@click.option("--limit", default=50, show_default=True)
def list_(limit):
    with Connection(amqp_uri()) as conn:
        messages = _fetch(conn, limit)
        for m in messages:
            body = m.payload if isinstance(m.payload, dict) else {}
            click.echo(f"{m.headers.get('x-failed-at', '')}  {m.delivery_info.get('routing_key')}  "
                       f"{body.get('event_id', '?')}  {m.headers.get('x-service')}/{m.headers.get('x-handler')}")
            click.echo(f"    原因: {m.headers.get('x-reason')}")
        click.echo(f"共 {len(messages)} 条" + ("（可能还有更多）" if len(messages) == limit else ""))
        # closing without ack returns every message to the queue


@dlq.command(help="把死信重新发布到原来的事件交换机（消费者按 event_id 去重，重放不会重复生效）")
@click.option("--event-id", help="只重放这一条")
@click.option("--limit", default=1000, show_default=True)
def replay(event_id, limit):
    replayed = kept = 0
    with Connection(amqp_uri()) as conn:
        for m in _fetch(conn, limit):
            body = m.payload
            wanted = event_id is None or (isinstance(body, dict) and body.get("event_id") == event_id)
            if not wanted or not isinstance(body, dict) or "source" not in body:
                kept += 1
                continue
            EventPublisher(amqp_uri(), body["source"]).publish(json.loads(json.dumps(body)))
            m.ack()
            replayed += 1
    click.echo(f"已重放 {replayed} 条，保留 {kept} 条")
