"""Receive the Baodao platform's public events over plain AMQP (pika), as docs/asyncapi.yaml describes.

    python examples/consume_events.py --queue city-hall.baodao --bind 'request.#' --bind 'command.*'

A durable queue of your own keeps events while you are away. Each event is acknowledged only
after it is handled, so a crash means redelivery: deduplicate on ``event_id`` (here in memory; a
real consumer keeps the ids it handled in its own database, in the same transaction as the effect).
"""

import argparse
import json
import sys

import pika


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@localhost:5672/%2F")
    parser.add_argument("--queue", required=True, help="your durable queue's name")
    parser.add_argument("--bind", action="append", default=None, help="routing key pattern; default #")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0: run on)")
    parser.add_argument("--idle-timeout", type=float, default=None, help="stop when nothing came for this long")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp_uri))
    channel = connection.channel()
    channel.queue_declare(args.queue, durable=True)
    for key in args.bind or ["#"]:
        channel.queue_bind(args.queue, "baodao.public", routing_key=key)
    channel.basic_qos(prefetch_count=50)
    seen: set[str] = set()
    handled = 0
    try:
        for method, _props, body in channel.consume(args.queue, inactivity_timeout=args.idle_timeout):
            if method is None:
                break  # idle
            event = json.loads(body)
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                print(json.dumps({k: event[k] for k in ("event_type", "source", "occurred_at", "data")},
                                 ensure_ascii=False), flush=True)
                handled += 1
            channel.basic_ack(method.delivery_tag)
            if args.count and handled >= args.count:
                break
    finally:
        channel.cancel()
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
