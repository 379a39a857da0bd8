"""Declare every service's event queues up front, before any process publishes.

An event published to an exchange with no queue bound is dropped by the broker. Declaring the
durable queues nameko's event handlers will consume (same names and arguments as nameko's own
``EventHandler.setup``) at deploy time means events raised while a consumer is still starting,
or down, wait in its queue instead.
"""

import importlib

from kombu import Connection, Exchange, Queue
from nameko.events import SERVICE_POOL, EventHandler
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from common.config import SERVICES, durable_queue_arguments


def service_class(name: str):
    module = importlib.import_module(f"services.{name}.service")
    return getattr(module, f"{name.title()}Service")


def event_queues(cls) -> list[Queue]:
    queues = []
    for attr in dir(cls):
        for entrypoint in getattr(getattr(cls, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if not isinstance(entrypoint, EventHandler) or entrypoint.handler_type is not SERVICE_POOL:
                continue
            exchange = Exchange(f"{entrypoint.source_service}.events", type="topic", durable=True)
            queues.append(Queue(
                f"evt-{entrypoint.source_service}-{entrypoint.event_type}--{cls.name}.{attr}",
                exchange=exchange, routing_key=entrypoint.event_type, durable=True,
                auto_delete=False, exclusive=False, queue_arguments=durable_queue_arguments()))
    return queues


# The published contract for systems that do not use nameko (docs/asyncapi.yaml): every service's
# events, as they are, on one topic exchange; commands in on one durable queue; dead letters kept.
PUBLIC_EXCHANGE = Exchange("baodao.public", type="topic", durable=True)
COMMANDS_EXCHANGE = Exchange("baodao.commands", type="topic", durable=True)
COMMANDS_QUEUE = Queue("baodao.commands", exchange=COMMANDS_EXCHANGE, routing_key="#", durable=True,
                       auto_delete=False, queue_arguments=durable_queue_arguments())


def declare_public(channel, names=SERVICES):
    """``baodao.public`` bound to each ``<service>.events`` (exchange to exchange, routing keys kept)."""
    from common.messaging import DEAD_LETTER_QUEUE

    PUBLIC_EXCHANGE(channel).declare()
    for name in names:
        source = Exchange(f"{name}.events", type="topic", durable=True)
        source(channel).declare()
        PUBLIC_EXCHANGE(channel).bind_to(exchange=source, routing_key="#")
    COMMANDS_QUEUE(channel).declare()
    DEAD_LETTER_QUEUE(channel).declare()


def declare_all(amqp_uri: str, names=SERVICES) -> int:
    queues = [q for name in names for q in event_queues(service_class(name))]
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for queue in queues:
            queue(channel).declare()
        declare_public(channel)
    return len(queues)
