"""Configuration from environment variables, with defaults that run on a laptop."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"

# every service with its own process and database (``services/<name>/``)
SERVICES = ("scoring", "notify", "bridge", "records", "registration", "activities", "dispatch")


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def durable_queue_arguments() -> dict:
    """``QUORUM_QUEUES=1``: the durable event and command queues (and the dead letters) are declared
    as RabbitMQ quorum queues, replicated across a cluster's nodes so one node's loss keeps them.
    They work on a single node too. Switching an existing broker means draining and deleting the
    classic queues first: RabbitMQ refuses to redeclare a queue with another type."""
    if os.environ.get("QUORUM_QUEUES", "").lower() in ("1", "true", "yes"):
        return {"x-queue-type": "quorum"}
    return {}


def data_dir() -> Path:
    path = Path(os.environ.get("BAODAO_DATA_DIR", ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else `DATABASE_URL` (one container, one service), else SQLite."""
    specific = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if specific:
        return specific
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{data_dir() / (service + '.db')}"


def nameko_config(**extra) -> dict:
    """The dict nameko's ServiceRunner takes; the same for every service process."""
    config = {
        "AMQP_URI": amqp_uri(),
        "serializer": "json",
        "max_workers": int(os.environ.get("MAX_WORKERS", "10")),
        "parent_calls_tracked": 10,
        "HEARTBEAT": 60,
        "WEB_SERVER_ADDRESS": "{}:{}".format(
            os.environ.get("GATEWAY_HOST", "127.0.0.1"), os.environ.get("GATEWAY_PORT", "8000")
        ),
        "RPC_TIMEOUT": float(os.environ.get("RPC_TIMEOUT", "10")),
    }
    config.update(extra)
    return config


def secret(name: str) -> bytes:
    """A secret (token signing, actor assertions, ID-number hashing): no default — see common/secrets.py."""
    from common import secrets

    return secrets.get(name)
