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

import secrets  # noqa: E402
import uuid  # noqa: E402

# no secret has a default (common/secrets.py): the test run makes its own, inherited by the platforms it starts
for _name in ("TOKEN_SECRET", "ACTOR_KEY", "ID_HASH_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(48))
# the login throttle's growing delays, shortened for the platforms tests start (the rule is the same)
os.environ.setdefault("LOGIN_MAX_DELAY_SECONDS", "0.2")

import pytest  # noqa: E402

from tests import support  # noqa: E402

# the tests' webhook/robot/SMS/SMTP receivers listen on loopback: allow-listed as an operator would
# allow an intranet gateway (the platform processes the tests start inherit it)
os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.1")


def pytest_addoption(parser):
    parser.addoption("--databases", default=os.environ.get("TEST_DATABASES", "sqlite,postgres"),
                     help="comma-separated databases to run integration and e2e tests on")
    parser.addoption("--only-database-tests", action="store_true",
                     help="only the tests that run once per database (a second run beside one that has the rest: "
                          "tests/parallel.py)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--only-database-tests"):
        keep = [i for i in items if "database" in getattr(i, "fixturenames", ())]
        kept = {id(i) for i in keep}
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in kept])
        items[:] = keep


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


@pytest.fixture(scope="session")
def accounts(tmp_path_factory):
    """For tests of one service without registration: the demo's real accounts, signed in through
    a registration service of their own (own vhost, SQLite, started once per run).
    ``accounts("staff1")`` → the actor the gateway would pass for that login."""
    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy

    from cli import demo
    from common import assertions
    from common.config import nameko_config
    from common.migrations import upgrade
    from services.registration.service import RegistrationService

    name = f"baodao-accounts-{uuid.uuid4().hex[:10]}"
    support.create_vhost(name)
    config = nameko_config(AMQP_URI=support.amqp_uri_for(name))
    config["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('accounts') / 'registration.db'}"
    upgrade("registration", config["DATABASE_URL"])
    demo.seed({"registration": config["DATABASE_URL"]}, config["AMQP_URI"])
    runner = ServiceRunner(config)
    runner.add_service(RegistrationService)
    runner.start()
    principals = {}
    try:
        with ClusterRpcProxy(config) as rpc:
            def actor(username, password=support.DEMO_PASSWORD):
                if username not in principals:
                    principals[username] = rpc.registration.authenticate(
                        {"username": username, "password": password})
                return assertions.attach(principals[username], "gateway")  # fresh: assertions are short-lived

            yield actor
    finally:
        runner.stop()
        support.delete_vhost(name)
