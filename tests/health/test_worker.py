"""A real Celery worker, on a real Redis broker and the test database, rescores a saved engagement.

Runs whenever REDIS_URL is set (CI sets it), on a redis-server of its own. Without it the test skips
locally, but fails under CI=true: there a missing broker is a broken pipeline, not a reason to skip.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone

from config.celery import app
from engagements.models import Session
from engagements.services import session_log
from health.models import HealthSnapshot, PendingRescore
from tests import clock, factories
from tests.reliability.support import RedisServer, celery_broker, worker_database_url

BASE_DIR = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 60


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        reason = "REDIS_URL is not set; start Redis and export REDIS_URL to run the real-worker test."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A solo-pool worker subprocess on a redis-server of the test's own (so nothing it leaves stays
    in the suite's broker); stopped before pytest-django empties the tables. While it runs, this
    process queues its tasks there too."""
    _redis_url()
    server = RedisServer(tmp_path)
    server.start()
    redis_url = server.url
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": worker_database_url(),
           "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "real-worker-test-only"}
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    # On the suite's clock (tests/clock.py): a rescore queued with a delay is due by the worker's clock.
    process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        clock.command([sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                       "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n",
                       f"health-test-{os.getpid()}@%h"]),
        cwd=BASE_DIR, env=clock.environment(env), stdout=log, stderr=subprocess.STDOUT,
    )
    with celery_broker(redis_url):
        yield process, Path(log.name)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_worker_rescores_an_engagement_after_a_session_is_saved(worker, settings, consultant):
    process, log_path = worker
    assert not app.conf.task_always_eager, "with REDIS_URL set, tasks must go through the broker"
    settings.HEALTH = {**settings.HEALTH, "RESCORE_DELAY_SECONDS": 1}
    engagement = factories.EngagementFactory(lead=consultant)

    session_log(engagement=engagement, logged_by=consultant, start=timezone.now(), duration_minutes=90,
                focus=Session.Focus.STRATEGY, initiated_by="client", advice_requested=True)

    deadline = time.monotonic() + TIMEOUT_SECONDS
    snapshot = None
    while snapshot is None and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The worker exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        snapshot = HealthSnapshot.objects.filter(engagement=engagement).first()
        time.sleep(0.5)

    assert snapshot is not None, f"No rescore within {TIMEOUT_SECONDS}s. Worker log:\n{log_path.read_text()[-4000:]}"
    assert snapshot.date == timezone.localdate()
    assert (snapshot.depth, snapshot.advice_rate) == (1.0, 1.0)
    assert not PendingRescore.objects.filter(engagement=engagement).exists()
    assert "health.tasks.score_engagement" in log_path.read_text()
