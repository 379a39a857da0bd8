"""``make run`` / ``baodao run``: migrate, load the demo if empty, start every process — and leave none behind.

Guarantees (each has a test in ``tests/e2e/test_launcher.py``):

- every child ends when the launcher ends, however it ends: SIGINT (Ctrl-C), SIGTERM, SIGHUP (the
  terminal closed), or the launcher killed outright — children ask the kernel for SIGTERM when
  their parent dies (``PR_SET_PDEATHSIG``, see ``cli/serve.py``) and stay in the launcher's
  process group, so a signal to the group reaches them too;
- SIGINT sent to ``make`` alone stops everything (make waits for its child without telling it;
  see :func:`_make_is_stopping`);
- a clean stop within :data:`STOP_TIMEOUT` seconds, then SIGKILL for whatever is left;
- one platform per data directory and gateway port: a lock in ``var/`` held until the last child
  exits, and the port checked before anything starts (the gateway binds without SO_REUSEPORT
  unless several gateways are asked for).
"""

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from kombu import Connection

from cli.process import set_parent_death_signal
from common import config
from common.migrations import upgrade
from common.topology import declare_all

PROCESSES = (*config.SERVICES, "gateway")  # start order: consumers before the gateway sends them work
STOP_TIMEOUT = 7.0  # then SIGKILL: the whole stop stays under 10 s
LOCK_NAME = "baodao.lock"
METRICS_TARGETS = "metrics-targets.json"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class Shutdown(BaseException):
    """Raised in the main thread by a stop signal, wherever the launcher is (migrating, waiting…)."""


def parse_scale(spec: str | None) -> dict[str, int]:
    """``"dispatch=3,gateway=2"`` → one count per process (default 1; 0 leaves a process out)."""
    counts = dict.fromkeys(PROCESSES, 1)
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        name, _, number = part.partition("=")
        name = name.strip()
        if name not in counts:
            raise ValueError(f"没有名为 {name!r} 的服务；可选：{'、'.join(PROCESSES)}")
        if not number.strip().isdigit() or int(number) > 32:
            raise ValueError(f"{name} 的实例数应为 0–32 的整数（写法：--scale {name}=2）")
        counts[name] = int(number)
    return counts


def gateway_address() -> tuple[str, int]:
    return os.environ.get("GATEWAY_HOST", "127.0.0.1"), int(os.environ.get("GATEWAY_PORT", "8000"))


def acquire_lock(data_dir: Path):
    """An exclusive ``flock`` on ``var/baodao.lock``; None if another platform holds it.

    Children inherit the open file, so the lock lasts until the last process of this platform is gone.
    """
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        return None, holder
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    os.set_inheritable(fd, True)
    return fd, None


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def metrics_port(n: int) -> int:
    """The n-th process's /metrics port: ``METRICS_BASE_PORT`` + n when set, else a free one."""
    base = os.environ.get("METRICS_BASE_PORT")
    if base:
        return int(base) + n
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broker_reachable(uri: str) -> str | None:
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _parent_is_make() -> bool:
    try:
        return Path(f"/proc/{os.getppid()}/comm").read_text().strip() in ("make", "gmake")
    except OSError:
        return False


def _make_is_stopping(ppid: int) -> bool:
    """True once our parent ``make`` has received SIGINT/SIGTERM/SIGHUP/SIGQUIT, or is gone.

    On such a signal GNU make waits for its children inside its signal handler without
    signalling them (it expects the terminal to have signalled the whole group). The one trace
    a child can see is the handled signal in make's blocked-signal mask.
    """
    if os.getppid() != ppid:
        return True
    try:
        status = Path(f"/proc/{ppid}/status").read_text()
    except OSError:
        return True
    blocked = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
    return any(blocked & (1 << (sig - 1)) for sig in STOP_SIGNALS)


class Child:
    def __init__(self, name: str, index: int, count: int, env: dict, pass_fds=()):
        self.name = f"{name}.{index}" if count > 1 else name
        self.service = name
        self.proc = subprocess.Popen([sys.executable, "-m", "cli.serve", name], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     cwd=str(config.ROOT), pass_fds=pass_fds)
        threading.Thread(target=self._pipe, daemon=True).start()

    def _pipe(self):
        # JSON lines stay JSON (they name their process); text lines get the process in front
        prefix = "" if os.environ.get("LOG_FORMAT", "").lower() == "json" else f"[{self.name:>14}] "
        for line in iter(self.proc.stdout.readline, ""):
            sys.stdout.write(prefix + line)
        self.proc.stdout.close()


def stop_all(children: list[Child], timeout: float = STOP_TIMEOUT):
    for child in reversed(children):  # the gateway first: no new work while services drain
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.proc.wait(max(0.05, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} 未在 {timeout:.0f} 秒内停止，强制结束。", file=sys.stderr)
            child.proc.kill()
            child.proc.wait()


def wait_ready(url: str, children: list[Child], left_out=(), timeout: float = 90.0) -> bool:
    """Until /health answers 200, or — when some services were left out on purpose — until it
    names only those as down: every service that was started answers before we say "started"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.proc.poll() is not None for c in children):
            return False
        try:
            resp = requests.get(url, timeout=5)
            if resp.status_code == 200:
                return True
            if left_out and resp.status_code == 503 and set(resp.json().get("down", [])) <= set(left_out):
                return True
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    return False


def print_logins(logins):
    from cli import demo

    if logins:
        print(f"已载入演示数据，所有演示账号的密码都是 {demo.DEMO_PASSWORD}：")
        for role, username, what in logins:
            print(f"  {username:<14} {role:<16} {what}")


def main(seed_demo: bool = True, scale: str | None = None) -> int:
    from cli import demo
    from common import secrets

    secrets.ensure_generated(config.data_dir())  # #11: random on first run, kept in var/secrets.env

    try:
        counts = parse_scale(scale)
    except ValueError as exc:
        print(f"--scale 有误：{exc}", file=sys.stderr)
        return 2
    host, port = gateway_address()
    data_dir = config.data_dir()
    lock_fd, holder = acquire_lock(data_dir)
    if lock_fd is None:
        print(f"已有一个宝岛平台在运行（进程 {holder}，锁文件 {data_dir / LOCK_NAME}），未再启动第二套。\n"
              "请先在它的终端按 Ctrl-C 停止它；要另起一套，请换用 BAODAO_DATA_DIR 和 GATEWAY_PORT。",
              file=sys.stderr)
        return 1
    if counts["gateway"] and port_in_use(host, port):
        print(f"网关端口 {host}:{port} 已被占用（可能已有一个宝岛平台或其他程序在用），未启动。\n"
              "请先停止占用该端口的程序，或设置 GATEWAY_PORT 换一个端口。", file=sys.stderr)
        return 1
    under_make = _parent_is_make()
    make_pid = os.getppid()
    if under_make:
        set_parent_death_signal()  # make killed outright: we hear of it too
    children: list[Child] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            raise Shutdown(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # an ignored SIGINT/SIGHUP (a background job, nohup) stays ignored, as the shell meant
        if sig == signal.SIGTERM or signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, on_signal)
    try:
        uri = config.amqp_uri()
        problem = broker_reachable(uri)
        if problem:
            print(f"无法连接 RabbitMQ（{uri}）：{problem}\n"
                  "请先启动它：  rabbitmq-server -detached\n"
                  "（或设置 AMQP_URI 指向可用的 RabbitMQ）", file=sys.stderr)
            return 1
        for name in config.SERVICES:
            if counts[name]:
                upgrade(name)
        declare_all(uri)  # every event queue exists before anything publishes
        if seed_demo:
            demo.seed()
        logins = demo.loaded_logins()
        env = dict(os.environ, PYTHONUNBUFFERED="1", BAODAO_LAUNCHER_PID=str(os.getpid()))
        if counts["gateway"] > 1:
            env["GATEWAY_REUSE_PORT"] = "1"  # several gateways share the port only when asked
        targets = []
        for name in PROCESSES:
            for index in range(1, counts[name] + 1):
                port_of_metrics = metrics_port(len(targets))
                targets.append({"targets": [f"127.0.0.1:{port_of_metrics}"],
                                "labels": {"service": name, "instance_index": str(index)}})
                children.append(Child(name, index, counts[name],
                                      dict(env, BAODAO_INSTANCE=str(index), METRICS_PORT=str(port_of_metrics)),
                                      pass_fds=(lock_fd,)))
        # Prometheus file-based discovery (file_sd_configs): every process's own /metrics
        (data_dir / METRICS_TARGETS).write_text(json.dumps(targets, indent=1), encoding="utf-8")
        base = f"http://{host}:{port}"
        left_out = [n for n in PROCESSES if not counts[n]]
        if counts["gateway"]:
            if not wait_ready(f"{base}/health", children, left_out):
                print("平台未能启动，请查看上面的日志。", file=sys.stderr)
                return 1
            print(f"\n宝岛平台已启动：{base}    接口说明：{base}/docs    健康检查：{base}/health")
        else:
            print("\n宝岛平台已启动（未启动网关）。")
        scaled = [f"{n}×{counts[n]}" for n in PROCESSES if counts[n] > 1]
        if scaled or left_out:
            note = f"；未启动：{'、'.join(left_out)}" if left_out else ""
            print(f"实例数：{'、'.join(scaled) or '各 1 个'}{note}")
        print(f"各进程的指标：{data_dir / METRICS_TARGETS}（Prometheus file_sd 格式）")
        print_logins(logins)
        print("按 Ctrl-C 停止全部服务。\n", flush=True)
        while True:
            dead = [c.name for c in children if c.proc.poll() is not None]
            if dead:
                print(f"进程意外退出：{', '.join(dead)}；正在停止其余服务。", file=sys.stderr)
                return 1
            if under_make and _make_is_stopping(make_pid):
                stopping = True
                return 0
            time.sleep(0.3)
    except (Shutdown, KeyboardInterrupt):
        stopping = True
        return 0
    finally:
        stopping = True
        if children:
            print("\n正在停止全部服务…", flush=True)
            started = time.monotonic()
            stop_all(children)
            print(f"已停止（{time.monotonic() - started:.1f} 秒）。", flush=True)
        os.close(lock_fd)
