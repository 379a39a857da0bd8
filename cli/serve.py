"""Run one service (or the gateway) as its own process: ``python -m cli.serve dispatch``."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything else imports socket or threading

import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from common.config import nameko_config  # noqa: E402

SERVICES = {
    "registration": "services.registration.service:RegistrationService",
    "dispatch": "services.dispatch.service:DispatchService",
    "scoring": "services.scoring.service:ScoringService",
    "notify": "services.notify.service:NotifyService",
    "gateway": "gateway.service:GatewayService",
}


def load_service(name: str):
    module, cls = SERVICES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def main(argv=None):
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1 or args[0] not in SERVICES:
        print(f"用法: python -m cli.serve <{'|'.join(SERVICES)}>", file=sys.stderr)
        return 2
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format=f"%(asctime)s {args[0]} %(levelname)s %(name)s: %(message)s")
    run([load_service(args[0])], nameko_config())
    return 0


if __name__ == "__main__":
    sys.exit(main())
