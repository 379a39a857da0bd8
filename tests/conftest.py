import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # the nameko pytest plugin no longer does this; it must come first

import os  # noqa: E402
import secrets  # noqa: E402
import uuid  # noqa: E402

# no secret has a default (common/secrets.py): the test run makes its own, inherited by the platforms it starts
for _name in ("TOKEN_SECRET", "ACTOR_KEY", "ID_HASH_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(48))

import pytest  # noqa: E402

from tests import support  # noqa: E402


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
