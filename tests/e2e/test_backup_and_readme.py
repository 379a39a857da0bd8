"""A backup of a fresh demo, restored into empty databases, serves the platform — and the README's
curl blocks run literally against it.

One platform start covers both: the restored databases *are* a fresh demo (seeded, backed up,
restored), which is what the README's blocks expect. On PostgreSQL the restored platform is the
gateway with registration and dispatch only (enough to serve the restored data).
"""

import re
import subprocess
import uuid

import pytest

from cli import backup, demo
from common.config import ROOT, SERVICES
from common.migrations import upgrade
from tests import support
from tests.e2e.conftest import _start_platform


def readme_blocks() -> list[str]:
    """The README's bash blocks that talk to a running platform (the others set a machine up)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "localhost:8000" in b or "$B/" in b]


@pytest.fixture(scope="module")
def restored(database, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"backup-{database}")
    vhost = f"baodao-backup-{uuid.uuid4().hex[:10]}"
    support.create_vhost(vhost)
    made = []

    # on PostgreSQL the two services the restored platform runs; on SQLite every one
    chosen = SERVICES if database == "sqlite" else ("registration", "dispatch")

    def new_urls(tag):
        urls = {}
        for name in chosen:
            if database == "sqlite":
                urls[name] = f"sqlite:///{work / tag / (name + '.db')}"
            else:
                urls[name] = support.create_pg_database(f"bd_bk{tag}_{name[:4]}_{uuid.uuid4().hex[:8]}")
                made.append(urls[name])
        (work / tag).mkdir(exist_ok=True)
        return urls

    stop = None
    try:
        original = new_urls("a")
        for name, url in original.items():
            upgrade(name, url)
        demo.seed(original, support.amqp_uri_for(vhost))
        manifest = backup.backup(work / "backup", urls=original)
        assert set(manifest["services"]) == set(chosen)

        empty = new_urls("b")  # nothing in them: not even tables
        assert backup.restore(work / "backup", urls=empty) == list(manifest["services"])
        with pytest.raises(Exception, match="已有数据"):  # a second restore never overwrites silently
            backup.restore(work / "backup", urls=empty)

        args = ["--no-demo"]
        if database != "sqlite":
            args += ["--scale", ",".join(f"{n}=0" for n in SERVICES if n not in chosen)]
        (work / "run").mkdir()
        platform, stop = _start_platform(database, work / "run", urls=empty, args=args)
        yield platform
    finally:
        if stop:
            stop()
        support.delete_vhost(vhost)
        for url in made:
            support.drop_pg_database(url)


def test_restored_databases_serve_the_platform(restored):
    staff = restored.login("staff1")  # accounts (argon2 hashes) came back
    assert staff.user["role"] == "community_staff"
    place = staff.get("/api/places/3")
    assert place.status_code == 200 and place.json()["name"] == "东风社区"
    menu = staff.get("/api/communities/3/menu").json()
    assert menu[0]["id"] == 1 and menu[0]["title"] == "法律咨询"
    # the restored database takes new writes on top of the old ids
    resident = restored.login("resident1")
    created = resident.post("/api/requests", {"menu_item_id": 1, "fields": {"topic": "labour"}})
    assert created.status_code == 201, created.text


def test_readme_blocks_run_literally(restored, database):
    if database != "sqlite":
        pytest.skip("the README runs once, on the default database")
    blocks = readme_blocks()
    assert len(blocks) >= 2
    host = restored.base_url.removeprefix("http://")
    script = "set -euo pipefail\n" + "\n".join(b.replace("localhost:8000", host) for b in blocks)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout
    assert "东风社区" in out and "法律咨询" in out
    assert re.search(r"request \d+\nclaimed\ndone\nclosed\n", out), out
