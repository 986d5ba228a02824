"""Shared fixtures: real databases (SQLite and PostgreSQL), real Redis, the LINE emulator over real HTTP,
and the bot served over real HTTP so the emulator's signed webhooks reach it as LINE's would."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from werkzeug.serving import make_server

from bot import create_app, start_background, stop_background
from bot.config import Settings
from emulator.server import start_emulator
from emulator.settings import EmulatorSettings
from storage.db import Base
from storage.migrate import upgrade
from tests.processes import RedisServer
from tests.support import LINE_SPEC, SECRET, TOKEN, make_settings

POSTGRES_ADMIN_URL = os.environ.get("SIANG_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("SIANG_TEST_REDIS", "redis://127.0.0.1:6379/9")


# --- databases ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'siang.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_database():
    """A database of its own for this test run, migrated with Alembic, dropped at the end."""
    name = f"siang_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_tables(url: str) -> None:
    engine = create_engine(url)
    existing = set(inspect(engine).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Each test using it runs twice: on SQLite (embedded default) and on PostgreSQL (production)."""
    url = request.getfixturevalue(f"{request.param}_database")
    empty_tables(url)
    return url


@pytest.fixture
def redis_url() -> str:
    from redis import Redis

    connection = Redis.from_url(REDIS_TEST_URL)
    connection.flushdb()
    yield REDIS_TEST_URL
    connection.flushdb()
    connection.close()


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


# --- the LINE emulator and the bot ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def emulator_server():
    running = start_emulator(EmulatorSettings(channel_secret=SECRET, access_token=TOKEN,
                                              spec_path=str(LINE_SPEC) if LINE_SPEC.exists() else None))
    yield running
    running.shutdown()


@pytest.fixture
def line(emulator_server):
    """The emulator's client, reset for this test; fails the test if the bot sent a body LINE would refuse."""
    client = emulator_server.client
    client.reset()
    client.clear_faults()
    yield client
    client.assert_no_spec_violations()


class BotServer:
    """The bot app served over HTTP from a thread, with its in-process worker running."""

    def __init__(self, app):
        self.app = app
        self.services = app.extensions["siang"]
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "BotServer":
        start_background(self.app)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        stop_background(self.app)


@pytest.fixture
def settings(database_url, emulator_server) -> Settings:
    return make_settings(database_url, emulator_server.base_url)


@pytest.fixture
def bot(settings, line):
    """The bot in embedded mode, wired to the emulator both ways."""
    server = BotServer(create_app(settings)).start()
    line.configure(webhook_url=f"{server.url}/callback", channel_secret=SECRET, access_token=TOKEN)
    yield server
    server.stop()


@pytest.fixture
def app(settings):
    """The app without its background worker: for tests of the request path alone."""
    application = create_app(settings)
    yield application
    stop_background(application)


@pytest.fixture
def redis_settings(database_url, redis_url, emulator_server):
    """Redis mode with short leases and sweeps, for tests of several processes."""
    return make_settings(database_url, emulator_server.base_url, redis_url=redis_url, job_lease_seconds=3,
                         sweep_interval_seconds=0.5)


@pytest.fixture
def redis_app(redis_settings):
    """The app in Redis mode without a worker: what a web process does with a request, and no more."""
    application = create_app(redis_settings)
    yield application
    stop_background(application)


@pytest.fixture
def processes(tmp_path):
    """(started, directory): append each ``tests.processes.Process`` started; all are stopped after the test."""
    started = []
    yield started, tmp_path
    for process in started:
        process.stop()


# --- a real browser ---------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own browser download is not possible here


@pytest.fixture
def page():
    """A headless Chromium page (phone-sized), launched as this machine allows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 420, "height": 860})
        page.set_default_timeout(15000)
        yield page
        browser.close()


# --- CI guard: the PostgreSQL and Redis tests must really run ----------------------------------------------

_service_tests = {"postgres": 0, "redis": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        for marker in _service_tests:
            if marker in report.keywords:
                _service_tests[marker] += 1


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("SIANG_REQUIRE_SERVICES") == "1" and exitstatus == 0:
        missing = [name for name, passed in _service_tests.items() if passed == 0]
        if missing:
            print(f"\nFAIL: no test backed by {', '.join(missing)} passed; the services must be tested for real")
            session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    """A test that uses real Redis is marked so, whoever wrote it."""
    for item in items:
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)
