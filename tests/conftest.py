import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import os  # noqa: E402

import eventlet  # noqa: E402

# Playwright's asyncio cannot run in an eventlet-patched process, so the browser tests
# (tests/e2e/browser, which drive the platform only over HTTP) run in a pytest run of their own:
# `BAODAO_BROWSER_TESTS=1 pytest tests/e2e/browser` (what `make test` does after the main run).
BROWSER_RUN = os.environ.get("BAODAO_BROWSER_TESTS") == "1"
if not BROWSER_RUN:
    eventlet.monkey_patch()  # the nameko pytest plugin no longer does this; it must come first
collect_ignore_glob = ["unit/*", "integration/*", "e2e/test_*"] if BROWSER_RUN else ["e2e/browser/*"]

import uuid  # noqa: E402

import pytest  # noqa: E402

from tests import support  # noqa: E402

# the tests' webhook/robot/SMS/SMTP receivers listen on loopback: allow-listed as an operator would
# allow an intranet gateway (the platform processes the tests start inherit it)
os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.1")


def pytest_addoption(parser):
    parser.addoption("--databases", default=os.environ.get("TEST_DATABASES", "sqlite,postgres"),
                     help="comma-separated databases to run integration and e2e tests on")


def pytest_generate_tests(metafunc):
    if "database" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--databases").split(",")
        metafunc.parametrize("database", [d for d in ("sqlite", "postgres") if d in chosen],
                             indirect=True, scope="session")


@pytest.fixture(scope="session")
def database(request):
    """"sqlite" or "postgres": tests that take it run once on each (see --databases)."""
    return request.param


@pytest.fixture
def vhost():
    """A fresh RabbitMQ virtual host per test: no queue or message leaks between tests."""
    name = f"baodao-test-{uuid.uuid4().hex[:10]}"
    support.create_vhost(name)
    yield name
    support.delete_vhost(name)


@pytest.fixture
def amqp_uri(vhost):
    return support.amqp_uri_for(vhost)


@pytest.fixture
def db_url_factory(database, tmp_path):
    """Makes one empty database per service, SQLite file or PostgreSQL database."""
    made = []

    def make(service: str) -> str:
        if database == "sqlite":
            return f"sqlite:///{tmp_path / (service + '.db')}"
        url = support.create_pg_database(f"bd_{service[:4]}_{uuid.uuid4().hex[:10]}")
        made.append(url)
        return url

    yield make
    for url in made:
        support.drop_pg_database(url)


@pytest.fixture
def start_service(amqp_uri, db_url_factory):
    """Run a service class in this process on the real broker and a migrated database."""
    from nameko.runners import ServiceRunner

    from common.config import nameko_config
    from common.migrations import upgrade

    runners = []

    def start(cls, **extra):
        config = nameko_config(AMQP_URI=amqp_uri, **extra)
        if cls.name != "gateway":
            config["DATABASE_URL"] = db_url_factory(cls.name)
            upgrade(cls.name, config["DATABASE_URL"])
        runner = ServiceRunner(config)
        runner.add_service(cls)
        runner.start()
        runners.append(runner)
        return config

    yield start
    for runner in reversed(runners):
        runner.stop()
