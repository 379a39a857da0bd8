"""Run one service (or the gateway) as its own process: ``python -m cli.serve dispatch``."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything else imports socket or threading

import importlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from common import logs, metrics  # noqa: E402
from common.config import SERVICES, database_url, nameko_config  # noqa: E402

PROCESSES = (*SERVICES, "gateway")
ORPHAN_GRACE_SECONDS = 8.0


def load_service(name: str):
    """``dispatch`` → services.dispatch.service.DispatchService; ``gateway`` → gateway.service."""
    module = "gateway.service" if name == "gateway" else f"services.{name}.service"
    return getattr(importlib.import_module(module), f"{name.title()}Service")


def tie_to_launcher():
    """Under ``baodao run``: end when the launcher ends, however it ends (see cli/run.py).

    The launcher stops us with SIGTERM; Ctrl-C and a closed terminal reach the whole process
    group, so we leave those to the launcher instead of racing it.
    """
    launcher = os.environ.get("BAODAO_LAUNCHER_PID")
    if not launcher:
        return
    from cli.process import set_parent_death_signal

    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != int(launcher):  # the launcher died before the kernel knew to tell us
        sys.exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # a graceful stop can hang (a broker gone, its consumers reconnecting forever); with no
    # launcher left to SIGKILL us, a real OS thread (not a green one) ends us after the grace
    real_threading = eventlet.patcher.original("threading")
    real_threading.Thread(target=_exit_when_orphaned, args=(int(launcher),), daemon=True).start()


def _exit_when_orphaned(launcher: int):
    sleep = eventlet.patcher.original("time").sleep
    while os.getppid() == launcher:
        sleep(0.5)
    sleep(ORPHAN_GRACE_SECONDS)  # meanwhile PR_SET_PDEATHSIG's SIGTERM stops us gracefully
    os._exit(1)


def main(argv=None):
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1 or args[0] not in PROCESSES:
        print(f"用法: python -m cli.serve <{'|'.join(PROCESSES)}>", file=sys.stderr)
        return 2
    name = args[0]
    tie_to_launcher()
    from common import secrets

    try:
        secrets.require()  # a container (or any start outside `baodao run`) brings its own
    except secrets.MissingSecret as exc:
        print(exc, file=sys.stderr)
        return 2
    instance = os.environ.get("BAODAO_INSTANCE", "1")
    logs.configure(name if instance == "1" else f"{name}.{instance}")
    config = nameko_config()
    if name == "gateway":
        metrics.register_dead_letter_queue(config["AMQP_URI"])
        health = metrics.broker_health(config["AMQP_URI"])
    else:
        url = config.get("DATABASE_URL") or database_url(name)
        metrics.register_store(name, url)
        health = metrics.database_health(url)
    if os.environ.get("METRICS_PORT"):  # /metrics and a probe's /health on a port of this process's own
        metrics.serve(int(os.environ["METRICS_PORT"]), os.environ.get("METRICS_HOST", "127.0.0.1"), health)
    run([load_service(name)], config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
