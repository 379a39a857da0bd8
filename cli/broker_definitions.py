"""RabbitMQ definitions for a deployment: one broker account per service and per outside system,
each allowed only its own queues and exchanges; no guest.

Passwords come from the environment (``RABBITMQ_<ACCOUNT>_PASSWORD``, e.g.
``RABBITMQ_REGISTRATION_PASSWORD``, ``RABBITMQ_HOTLINE_12345_PASSWORD``) and only their salted
hashes are written, so the file itself holds no secret. Compose runs this once before the broker
starts (``broker-definitions``), and the broker loads the file on boot — which also means RabbitMQ
creates no default ``guest`` user.

    python -m cli.broker_definitions /etc/rabbitmq/definitions/definitions.json
"""

import base64
import hashlib
import json
import os
import re
import secrets as random
import sys

from common.config import SERVICES

VHOST = "/"
OUTSIDE_SYSTEMS = tuple(s for s in os.environ.get("BAODAO_OUTSIDE_SYSTEMS", "hotline-12345").split(",") if s)
ADMIN = "baodao-admin"  # migrations/queue declaration and the operators' management UI


def _password_hash(password: str) -> str:
    """rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = random.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def env_name(account: str) -> str:
    return "RABBITMQ_" + re.sub(r"[^A-Z0-9]", "_", account.upper()) + "_PASSWORD"


def _any(*patterns: str) -> str:
    return "^(" + "|".join(patterns) + ")$"


def permissions(account: str) -> dict:
    """Regexes over queue and exchange names (nameko's: ``rpc-<svc>``, ``rpc.reply-<svc>-…``,
    ``<svc>.events``, ``evt-<source>-<type>--<svc>.<handler>``; ours: ``baodao.*``)."""
    s = re.escape(account)
    if account == "gateway":  # calls services and reads their replies; consumes nothing else
        return {"configure": _any(r"rpc\.reply-gateway-.*", "nameko-rpc"),
                "write": _any("nameko-rpc", r"amq\.default", r"rpc\.reply-gateway-.*"),
                "read": _any(r"rpc\.reply-gateway-.*", "nameko-rpc")}
    if account in SERVICES:
        own = [f"rpc-{s}", rf"rpc\.reply-{s}-.*", rf"evt-.*--{s}\..*", rf"{s}\.events"]
        extra = [r"baodao\.commands"] if account == "bridge" else []
        return {"configure": _any(*own, "nameko-rpc", *extra),
                "write": _any(*own, "nameko-rpc", r"amq\.default", r"baodao\.dead-letter", r"baodao\.public",
                              *extra),
                "read": _any(*own, "nameko-rpc", r".*\.events", *extra)}
    # an outside system: sends commands, reads the public events on queues named after itself
    return {"configure": _any(rf"{s}\..*", r"amq\.gen-.*"),
            "write": _any(r"baodao\.commands", rf"{s}\..*", r"amq\.gen-.*"),
            "read": _any(r"baodao\.public", rf"{s}\..*", r"amq\.gen-.*")}


def definitions(passwords: dict) -> dict:
    accounts = [ADMIN, "gateway", *SERVICES, *OUTSIDE_SYSTEMS]
    missing = [env_name(a) for a in accounts if len(passwords.get(a) or "") < 16]
    if missing:
        raise SystemExit(f"缺少消息中间件账号密码（每个至少 16 个字符）：{'、'.join(missing)}")
    users = [{"name": a, "password_hash": _password_hash(passwords[a]),
              "hashing_algorithm": "rabbit_password_hashing_sha256",
              "tags": "administrator" if a == ADMIN else ""} for a in accounts]
    perms = [{"user": ADMIN, "vhost": VHOST, "configure": ".*", "write": ".*", "read": ".*"}]
    perms += [{"user": a, "vhost": VHOST, **permissions(a)} for a in accounts if a != ADMIN]
    return {"users": users, "vhosts": [{"name": VHOST}], "permissions": perms}


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    accounts = [ADMIN, "gateway", *SERVICES, *OUTSIDE_SYSTEMS]
    doc = definitions({a: os.environ.get(env_name(a), "") for a in accounts})
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if args:
        os.makedirs(os.path.dirname(args[0]) or ".", exist_ok=True)
        with open(args[0], "w") as out:
            out.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
