"""Fault tests against real Redis, PostgreSQL and Celery workers (docs/reliability.md).

1. A worker is killed with SIGKILL in the middle of the nightly run; a new worker finishes it, and
   the snapshots and flags equal those of one clean run.
2. Redis restarts with tasks queued, and again under a running worker: nothing queued is lost and
   the worker goes on consuming.
3. Two scoring runs of the same portfolio at the same time: one snapshot per engagement and date,
   no duplicate flag, no error, and the second run writes nothing the first wrote.

Each test has its own redis-server (persisting like production's, --appendonly yes) on a free port.
Workers read CELERY_VISIBILITY_TIMEOUT=6 s so a dead worker's tasks come back within the test.
Tasks go to that server only inside ``celery_broker(...)``; elsewhere (the in-process runs they are
compared with) they run in-process as in every other test, so nothing reaches the suite's broker.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from engagements.models import Session
from engagements.services import session_log
from health import services, tasks
from health.models import Flag, HealthSnapshot, PendingRescore
from tests import factories
from tests.reliability.support import (
    TODAY,
    VISIBILITY_TIMEOUT,
    build_portfolio,
    celery_broker,
    scoring_outcome,
    wait_for,
    worker_database_url,
)

pytestmark = pytest.mark.django_db(transaction=True)

PORTFOLIO = 400
BATCH = 8  # 50 chunk tasks


@pytest.fixture
def portfolio():
    worker_database_url()  # skip early (before building) without PostgreSQL
    return build_portfolio(PORTFOLIO)


def clean_run_outcome(as_of):
    """What one uninterrupted in-process run produces, for comparison (the faulty run's rows are
    deleted first; engagements keep their ids)."""
    HealthSnapshot.objects.all().delete()
    Flag.objects.all().delete()
    services.score_portfolio(as_of=as_of)
    return scoring_outcome(as_of)


def drained(redis_server) -> bool:
    return redis_server.queued() == 0 and redis_server.unacked() == 0


def test_a_worker_killed_mid_run_leaves_a_run_the_next_worker_finishes(portfolio, redis_server, workers):
    first = workers("a", HEALTH_BATCH_SIZE=str(BATCH))
    first.wait_ready()
    with celery_broker(redis_server.url):
        tasks.score_all.delay(TODAY.isoformat())

    # Kill it in the middle of the run while it holds tasks. Between acknowledging one task and
    # fetching the next a worker may briefly hold none, so it is frozen (SIGSTOP) to look, and let go
    # again if it was caught in that gap; what it holds and has written cannot change while it is frozen.
    def caught_holding_tasks():
        if not HealthSnapshot.objects.filter(date=TODAY).exists():
            return None
        first.freeze()
        held, written = redis_server.unacked(), HealthSnapshot.objects.filter(date=TODAY).count()
        if held:
            return held, written
        first.thaw()
        return None

    held, written = wait_for(caught_holding_tasks, timeout=60, what="the worker to hold tasks mid-run",
                             interval=0.02, diagnostics=first.log)
    first.kill9()
    assert written < PORTFOLIO, "the run finished before the kill: make the portfolio bigger"
    assert HealthSnapshot.objects.filter(date=TODAY).count() == written
    # The tasks it held were never acknowledged: Redis keeps them for the visibility timeout.
    assert redis_server.unacked() == held > 0

    second = workers("b", HEALTH_BATCH_SIZE=str(BATCH))
    second.wait_ready()
    wait_for(lambda: HealthSnapshot.objects.filter(date=TODAY).count() == PORTFOLIO and drained(redis_server),
             timeout=VISIBILITY_TIMEOUT + 60, what="the second worker to finish the run", diagnostics=second.log)
    second.stop()

    faulty = scoring_outcome(TODAY)
    assert len(faulty[0]) == PORTFOLIO
    assert faulty[1], "the portfolio raises flags"
    assert faulty == clean_run_outcome(TODAY)


def _log_sessions(engagements, consultant):
    for engagement in engagements:
        session_log(engagement=engagement, logged_by=consultant, start=timezone.now(), duration_minutes=60,
                    focus=Session.Focus.STRATEGY, initiated_by="client", advice_requested=True)


def test_redis_restarts_lose_no_queued_task_and_workers_resume(redis_server, workers, consultant, settings):
    worker_database_url()
    settings.HEALTH = {**settings.HEALTH, "RESCORE_DELAY_SECONDS": 0}
    services._broker_state.resting_until = 0.0
    engagements = [factories.EngagementFactory(lead=consultant) for _ in range(30)]

    # Queued with no worker running, then Redis restarts: the queue comes back from its append-only file.
    with celery_broker(redis_server.url):
        _log_sessions(engagements[:20], consultant)
    assert redis_server.queued() == 20
    redis_server.restart()
    assert redis_server.queued() == 20

    worker = workers("a")
    worker.wait_ready()
    wait_for(lambda: HealthSnapshot.objects.filter(engagement__in=engagements[:20]).count() == 20,
             timeout=60, what="the 20 queued rescores", diagnostics=worker.log)

    # Redis goes away under a running worker. Saves meanwhile still succeed, their rescores wait as marks.
    redis_server.stop()
    with celery_broker(redis_server.url):
        _log_sessions(engagements[20:25], consultant)
    assert PendingRescore.objects.filter(engagement__in=engagements[20:25]).count() == 5
    redis_server.start()

    # Back: new saves are consumed by the same worker once it has reconnected, and they carry the
    # rescores left behind (the process's short rest after the failure is over).
    services._broker_state.resting_until = 0.0
    with celery_broker(redis_server.url):
        _log_sessions(engagements[25:], consultant)
    wait_for(lambda: HealthSnapshot.objects.filter(engagement__in=engagements).count() == 30,
             timeout=60, what="all 30 engagements rescored", diagnostics=worker.log)
    assert worker.alive()
    assert not PendingRescore.objects.exists()
    wait_for(lambda: drained(redis_server), timeout=10, what="an empty queue")


def test_two_runs_at_once_write_each_snapshot_and_flag_once(portfolio):
    assert connection.vendor == "postgresql"
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def run(name):
        try:
            barrier.wait()
            results[name] = services.score_portfolio(as_of=TODAY, batch_size=40)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert time.monotonic() - started < 120

    outcome = scoring_outcome(TODAY)
    assert len(outcome[0]) == PORTFOLIO == HealthSnapshot.objects.filter(date=TODAY).count()
    live = Flag.objects.filter(status__in=Flag.LIVE_STATUSES)
    assert live.count() == len(set(live.values_list("engagement_id", "kind")))
    # The runs took turns on each chunk: between them, every flag was raised exactly once.
    assert results["first"].flags_raised + results["second"].flags_raised == Flag.objects.count() > 0
    assert outcome == clean_run_outcome(TODAY)


def test_two_nightly_runs_on_two_workers_at_once(portfolio, redis_server, workers):
    """The same through Celery: two beats fire score_all together, two workers share the chunks."""
    pool = [workers(name, HEALTH_BATCH_SIZE=str(BATCH * 5)) for name in ("a", "b")]
    for worker in pool:
        worker.wait_ready()
    with celery_broker(redis_server.url):
        tasks.score_all.delay(TODAY.isoformat())
        tasks.score_all.delay(TODAY.isoformat())
    wait_for(lambda: HealthSnapshot.objects.filter(date=TODAY).count() == PORTFOLIO and drained(redis_server),
             timeout=90, what="both runs to finish", interval=0.2,
             diagnostics=lambda: pool[0].log() + pool[1].log())
    for worker in pool:
        worker.stop()
    assert "Traceback" not in pool[0].log() + pool[1].log()

    outcome = scoring_outcome(TODAY)
    live = Flag.objects.filter(status__in=Flag.LIVE_STATUSES)
    assert live.count() == len(set(live.values_list("engagement_id", "kind")))
    assert outcome == clean_run_outcome(TODAY)
