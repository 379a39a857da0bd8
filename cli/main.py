"""The ``baodao`` command."""

import sys

import click

from cli.backup import backup_command, restore_command
from cli.dlq import dlq
from common.config import SERVICES
from common.migrations import upgrade


@click.group(help="宝岛平台运维命令")
def cli():
    pass


@cli.command(help="迁移、载入演示数据（数据库为空时），启动全部服务和网关；Ctrl-C 全部停止。")
@click.option("--no-demo", is_flag=True, help="不载入演示数据")
@click.option("--scale", metavar="服务=实例数,…",
              help="每个服务的进程数，如 dispatch=3,scoring=2,gateway=2（0 表示不启动；多个网关共用端口）")
def run(no_demo, scale):
    from cli import run as runner

    sys.exit(runner.main(seed_demo=not no_demo, scale=scale))


@cli.command(help="以独立进程运行一个服务或网关。")
@click.argument("service", type=click.Choice(SERVICES + ("gateway",)))
def serve(service):
    import os

    os.execv(sys.executable, [sys.executable, "-m", "cli.serve", service])


@cli.command(help="把各服务数据库迁移到最新版本。")
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services):
    for name in services or SERVICES:
        upgrade(name)
        click.echo(f"{name}: 已迁移到最新版本")


@cli.command("declare-queues", help="在 RabbitMQ 上声明各服务的事件队列（部署时、启动服务前运行）。")
def declare_queues():
    from common.config import amqp_uri
    from common.topology import declare_all

    click.echo(f"已声明 {declare_all(amqp_uri())} 个事件队列")


@cli.command("seed-demo", help="数据库为空时载入演示区县数据。")
def seed_demo():
    from cli import demo

    logins = demo.seed()
    click.echo(f"已载入演示数据（{len(logins)} 个账号）" if logins else "数据库不为空，未载入演示数据")


cli.add_command(dlq)
cli.add_command(backup_command)
cli.add_command(restore_command)


@cli.group(help="演示数据。")
def demo():
    pass


@demo.command("logins", help="列出演示账号（密码相同）。")
def demo_logins():
    from cli import demo as demo_data
    from cli.run import print_logins

    logins = demo_data.loaded_logins()
    if not logins:
        click.echo("未载入演示数据（或演示账号已不存在）。运行 baodao seed-demo 载入。")
        sys.exit(1)
    print_logins(logins)


@cli.group("api-key", help="外部系统（12345 热线、组织部党员系统）的接入密钥。")
def api_key():
    pass


@api_key.command("create", help="为外部系统生成接入密钥（只显示这一次，库中只存其哈希）。")
@click.argument("system")
@click.option("--community", "communities", type=int, multiple=True, help="只允许访问这些社区（可多次给出）")
def api_key_create(system, communities):
    from services.bridge import cli as bridge_cli

    bridge_cli.create(system, list(communities) or None)


@api_key.command("revoke", help="停用某个外部系统的全部接入密钥。")
@click.argument("system")
def api_key_revoke(system):
    from services.bridge import cli as bridge_cli

    bridge_cli.revoke(system)


from cli.roster import roster  # noqa: E402, I001
cli.add_command(roster)

if __name__ == "__main__":
    cli()
