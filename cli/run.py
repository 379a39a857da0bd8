"""``make run``: migrate, load the demo if empty, start every process, stop them all on Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time

import requests
from kombu import Connection

from common import config
from common.migrations import upgrade
from common.topology import declare_all

START_ORDER = (*config.SERVICES, "gateway")


def broker_reachable(uri: str) -> str | None:
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _pipe(name: str, stream):
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"[{name:>12}] {line}")
    stream.close()


def start(name: str, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "cli.serve", name], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=str(config.ROOT), start_new_session=True)
    threading.Thread(target=_pipe, args=(name, proc.stdout), daemon=True).start()
    return proc


def stop_all(procs: list[subprocess.Popen], timeout: float = 15.0):
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_healthy(url: str, procs, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def main(seed_demo: bool = True) -> int:
    from cli import demo

    uri = config.amqp_uri()
    problem = broker_reachable(uri)
    if problem:
        print(f"无法连接 RabbitMQ（{uri}）：{problem}\n"
              "请先启动它：  rabbitmq-server -detached\n"
              "（或设置 AMQP_URI 指向可用的 RabbitMQ）", file=sys.stderr)
        return 1
    for name in config.SERVICES:
        upgrade(name)
    declare_all(uri)  # every event queue exists before anything publishes
    logins = demo.seed() if seed_demo else []
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs = []
    interrupted = False

    def on_signal(signum, frame):
        nonlocal interrupted
        interrupted = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        for name in START_ORDER:
            procs.append(start(name, env))
        host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
        port = os.environ.get("GATEWAY_PORT", "8000")
        base = f"http://{host}:{port}"
        if not wait_healthy(f"{base}/health", procs):
            print("平台未能启动，请查看上面的日志。", file=sys.stderr)
            return 1
        print(f"\n宝岛平台已启动：{base}    接口说明：{base}/docs    健康检查：{base}/health")
        if logins:
            print(f"已载入演示数据，所有演示账号的密码都是 {demo.DEMO_PASSWORD}：")
            for role, username, what in logins:
                print(f"  {username:<14} {role:<16} {what}")
        print("按 Ctrl-C 停止全部服务。\n")
        while not interrupted:
            dead = [START_ORDER[i] for i, p in enumerate(procs) if p.poll() is not None]
            if dead:
                print(f"进程意外退出：{', '.join(dead)}；正在停止其余服务。", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        print("\n正在停止全部服务…")
        stop_all(procs)
        print("已停止。")
