"""Shared fixtures: the personas every test can ask for; and CI's rule that nothing is skipped."""

import datetime as dt
import io
import os
import shutil

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from config.celery import app as celery_app
from tests import clock, factories
from tests.html_checks import take_problems
from tests.sqlite_threads import serialized_sqlite

# With RAPPORT_TEST_NOW set, the whole run happens at that moment (see tests/clock.py). Started on
# import, not in pytest_configure: pytest imports the conftest files along the command line's paths
# (and modules computing a TODAY of their own) before it configures anything.
_CLOCK = clock.start()


def pytest_unconfigure(config):
    if _CLOCK is not None:
        _CLOCK.stop()


def pytest_report_header(config):
    moment = clock.moved_to()
    return f"clock: moved to {moment.isoformat()} (RAPPORT_TEST_NOW)" if moment else "clock: real time"


@pytest.fixture(autouse=True, scope="session")
def _development_like_serving():
    """Serve static files from the app folders over plain HTTP: tests never run collectstatic."""
    with override_settings(
        # Every HTML page the suite renders is checked (duplicate ids, <time> values): see
        # tests/html_checks.py and the _valid_html fixture below.
        MIDDLEWARE=["tests.html_checks.HtmlChecksMiddleware", *settings.MIDDLEWARE],
        STORAGES={**settings.STORAGES,
                  "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
        WHITENOISE_USE_FINDERS=True,
        # The test server speaks plain HTTP; production's HTTPS settings are tested on their own
        # (tests/ops/test_deploy_settings.py) with the production environment in a subprocess.
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        SECURE_HSTS_SECONDS=0,
        # Tests sign managers in with one factor; tests/accounts/test_mfa.py turns this on.
        MFA_REQUIRED_FOR_MANAGERS=False,
    ):
        yield


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server; on in-memory SQLite its request threads and the test's thread
    take turns on the one shared connection, which Python's sqlite3 can otherwise deadlock on
    (tests/sqlite_threads.py)."""
    with serialized_sqlite():
        yield live_server


@pytest.fixture(autouse=True)
def _valid_html():
    """Fail the test whose requests rendered HTML with a duplicate id (or another problem
    tests/html_checks.py looks for), through the test client or the live server alike."""
    take_problems()
    yield
    problems = take_problems()
    if problems:
        pytest.fail("The pages this test rendered have problems:\n  " + "\n  ".join(dict.fromkeys(problems)))


@pytest.fixture(autouse=True)
def _eager_tasks():
    """Run Celery tasks in-process whatever REDIS_URL says, so tests stay hermetic and leave no
    messages behind in the broker. Tests of the real worker override this fixture in their module."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and cached values live in the cache: start each test without them."""
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in French leaves French active in the thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The day the demo portfolio is built on in tests. Its history is dated relative to "today", so what
# a test sees of it (positions on the map, which flags are live) would otherwise change from one
# day to the next. tests/engagements/test_seed_demo.py checks its stories on other days too.
DEMO_NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo():
    """The `make run` demo portfolio, built on DEMO_NOW, with the clock kept there (ticking) for the test."""
    with time_machine.travel(DEMO_NOW, tick=True):
        call_command("seed_demo", stdout=io.StringIO())
        yield


@pytest.fixture
def consultant(db):
    return factories.ConsultantFactory(email="consultant@firm.example", full_name="Camille Conseil")


@pytest.fixture
def other_consultant(db):
    return factories.ConsultantFactory(email="other@firm.example", full_name="Oscar Autre")


@pytest.fixture
def manager(db):
    return factories.ManagerFactory(email="manager@firm.example", full_name="Maya Manager")


@pytest.fixture
def engagement(consultant):
    """An active engagement staffed by ``consultant``."""
    return factories.EngagementFactory(lead=consultant, client__name="Acme")


@pytest.fixture
def client_user(engagement):
    """A portal user, contact of the engagement's client."""
    return factories.ClientUserFactory(email="client@acme.example", contact__client=engagement.client)


@pytest.fixture
def other_client_user(db):
    """A portal user of a different client."""
    return factories.ClientUserFactory(email="client@globex.example", contact__client__name="Globex")


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own on a free port, persisting to tmp_path: a test may stop and
    restart it, and nothing it holds reaches the suite's broker (tests/reliability/support.py)."""
    from tests.reliability.support import RedisServer, need

    need(shutil.which("redis-server") is not None,
         "this test needs redis-server on the PATH (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def pytest_sessionfinish(session, exitstatus):
    """Under CI every test must run: a skip there means a service or browser is missing."""
    if os.environ.get("CI", "").lower() != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; under CI that is a failure:", red=True)
        for report in skipped:
            reporter.write_line(f"  {report.nodeid}: {report.longrepr[-1] if report.longrepr else ''}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
