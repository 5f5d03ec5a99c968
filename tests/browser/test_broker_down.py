"""Log a session in the browser while Redis is down; once it is back, the engagement is rescored.

The live server queues its tasks to a private Redis that is not running yet. The session is saved
and shown on the timeline as usual; its rescore waits as a pending mark. Then Redis starts with a
worker, the sweep beat would run every five minutes is triggered, and the health card shows a score.
Needs PostgreSQL (the worker opens the test database) and redis-server: skipped without them
locally, failed under CI.
"""

import os
import re
import shutil

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements.models import Session
from health import services as health_services
from health import tasks
from health.models import HealthSnapshot, PendingRescore
from tests import factories
from tests.reliability.support import (
    ROOT,
    RedisServer,
    Worker,
    celery_broker,
    need,
    wait_for,
    worker_database_url,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def _eager_tasks():
    """Overrides tests/conftest.py's: the live server queues tasks to Redis."""
    yield


@pytest.fixture
def stopped_redis(tmp_path, monkeypatch):
    need(shutil.which("redis-server") is not None, "this test needs redis-server (apt-get install redis-server)")
    database_url = worker_database_url()
    monkeypatch.setattr(health_services._broker_state, "resting_until", 0.0)
    server = RedisServer(tmp_path)  # a free port, nothing listening on it yet
    with celery_broker(server.url):
        yield server, database_url
    server.stop()


def test_log_a_session_with_redis_down_and_see_it_rescored_once_redis_is_back(
        page, login, consultant, engagement, stopped_redis, tmp_path, screenshot):
    server, database_url = stopped_redis
    factories.ContactFactory(client=engagement.client, name="Ada Client", title="CFO")
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    expect(page.locator("#health")).to_contain_text("Relationship health")
    page.locator("#log-session > summary").click()
    form = page.locator("#log-session-form")
    form.get_by_label("Duration (minutes)").fill("50")
    form.get_by_role("radio", name="Advisory").check()
    form.get_by_role("checkbox", name=re.compile("Ada Client")).check()
    form.get_by_label("Notes").fill("Logged while the broker is down")
    form.get_by_role("button", name="Log session").click()
    expect(form).to_contain_text("Session logged")
    expect(page.locator("#timeline-items .session-item").first).to_contain_text("Logged while the broker is down")
    screenshot(page, "broker-down-session-logged")

    assert Session.objects.filter(engagement=engagement).count() == 1
    assert PendingRescore.objects.filter(engagement=engagement).exists()
    assert not HealthSnapshot.objects.filter(engagement=engagement).exists()

    # Redis comes back, with a worker; beat's sweep (every five minutes) sends the waiting rescore.
    server.start()
    worker = Worker("broker-down", {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": server.url,
        "DJANGO_SECRET_KEY": "broker-down-test-only", "HEALTH_RESCORE_DELAY_SECONDS": "0",
        "PYTHONPATH": str(ROOT)}, tmp_path, concurrency=1)
    try:
        worker.wait_ready()
        tasks.sweep_pending_rescores.delay()
        wait_for(lambda: HealthSnapshot.objects.filter(engagement=engagement, date=timezone.localdate()).exists(),
                 timeout=60, what="the engagement to be rescored", diagnostics=worker.log)
    finally:
        worker.stop()
    assert not PendingRescore.objects.filter(engagement=engagement).exists()

    page.reload()
    expect(page.locator("#health .score-number")).to_have_text(re.compile(r"^\d+$"))
    screenshot(page, "broker-down-rescored")
