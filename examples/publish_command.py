"""Send one command to the Baodao platform over plain AMQP (pika), as docs/asyncapi.yaml describes,
and wait for its outcome on ``baodao.public``.

    python examples/publish_command.py --amqp-uri amqp://hotline-12345:<password>@localhost:5672/%2F \
        --id call-0001 request.place \
        '{"community_id": 3, "menu_item_id": 1, "fields": {"topic": "family"},
          "caller": {"name": "王大爷", "phone": "13911112222"}}'

Connect with your system's own broker account (named as your registered system): the platform
knows you by it — RabbitMQ validates the ``user_id`` property we set to that account — never by the
body's ``source``, which must say the same.

Exit status: 0 done, 2 rejected (the reason is printed), 3 no answer in time.
"""

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime

import pika


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command_type", choices=["request.place", "request.confirm", "members.update"])
    parser.add_argument("data", help="the command's data, as JSON")
    parser.add_argument("--amqp-uri", default="amqp://guest:guest@localhost:5672/%2F")
    parser.add_argument("--source", default=None, help="your system's registered name (default: the account's)")
    parser.add_argument("--id", default=None, help="idempotency key; resending it does nothing twice")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    parameters = pika.URLParameters(args.amqp_uri)
    account = parameters.credentials.username
    command = {"command_id": args.id or str(uuid.uuid4()), "command_type": args.command_type, "version": 1,
               "source": args.source or account, "sent_at": datetime.now(UTC).isoformat(),
               "data": json.loads(args.data)}
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    # listen before sending, so the answer cannot slip past
    answers = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    for key in ("command.succeeded", "command.rejected"):
        channel.queue_bind(answers, "baodao.public", routing_key=key)
    channel.confirm_delivery()  # the broker confirms it has the command before we go on
    channel.basic_publish("baodao.commands", args.command_type, json.dumps(command, ensure_ascii=False).encode(),
                          pika.BasicProperties(content_type="application/json", delivery_mode=2, user_id=account))
    print(f"sent {args.command_type} {command['command_id']}", flush=True)

    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            method, _props, body = channel.basic_get(answers, auto_ack=True)
            if method is None:
                connection.sleep(0.2)
                continue
            event = json.loads(body)
            if event["data"]["command_id"] != command["command_id"]:
                continue  # another command's answer
            print(json.dumps(event, ensure_ascii=False), flush=True)
            return 0 if event["event_type"] == "command.succeeded" else 2
        print("no answer in time", file=sys.stderr)
        return 3
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
