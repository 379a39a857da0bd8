"""Bridge service entrypoints: other government systems talk to the platform over messages.

- RPC for the gateway's Open311 routes (API keys, placing requests, tokens);
- a consumer of ``baodao.commands``, the durable queue other systems send commands to.
"""

from functools import partial

from kombu import Connection
from nameko.dependency_providers import Config
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import RpcProxy

import authz
from common.db import Database
from common.service import ServiceBase, rpc
from common.topology import COMMANDS_QUEUE
from services.bridge import commands, usecases
from services.bridge.models import Base


class RawQueueConsumer(QueueConsumer):
    """Hands the undecoded message over: a body that is not JSON must reach our dead-letter
    logic, not fail inside kombu's decoding (where nameko would requeue it for ever)."""

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], on_message=partial(self.handle_message, provider, None))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()


class RawConsumer(Consumer):
    queue_consumer = RawQueueConsumer()

    def handle_message(self, body, message):
        # the worker gets bytes, content type and headers; it never raises (see commands.handle)
        # user_id: the broker account that published it, validated by RabbitMQ (never the body's word)
        return super().handle_message((message.body, message.content_type, dict(message.headers or {}),
                                       message.delivery_info.get("routing_key", ""),
                                       message.properties.get("user_id")), message)


raw_consume = RawConsumer.decorator


class BridgeService(ServiceBase):
    name = "bridge"
    db = Database(Base.metadata)
    config = Config()
    dispatch = RpcProxy("dispatch")
    registration = RpcProxy("registration")

    @rpc(internal=True)
    def check_api_key(self, actor, api_key):
        return usecases.check_api_key(self.db, api_key)

    @rpc
    def create_api_key(self, actor, payload):
        authz.check(actor, "internal.create_api_key")
        return usecases.create_api_key(self.db, payload)

    @rpc(internal=True)
    def place_request(self, actor, api_key, payload, idempotency_key=None):
        # the system is the key's, looked up here: not a dict a caller could make up
        system = usecases.check_api_key(self.db, api_key)
        return usecases.place_request(self.db, self._ports(), system, payload, idempotency_key)

    @rpc(internal=True)
    def find_token(self, actor, api_key, token):
        return usecases.find_token(self.db, usecases.check_api_key(self.db, api_key), token)

    @raw_consume(COMMANDS_QUEUE, requeue_on_error=True)
    def on_command(self, message):
        pause = float(self.config.get("BRIDGE_RETRY_PAUSE", commands.RETRY_PAUSE_SECONDS))
        commands.handle(self.db, self._ports(), *message, retry_pause_base=pause,
                        own_user=Connection(self.config["AMQP_URI"]).userid)

    def _ports(self):
        return usecases.Ports(dispatch=self.dispatch, registration=self.registration)
