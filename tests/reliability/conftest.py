"""Fixtures of the reliability tests (the helpers behind them are in support.py).

The fault tests need PostgreSQL (a worker process cannot open SQLite's in-memory test database)
and a ``redis-server`` binary. Without them they skip with the reason; under ``CI=true`` they
fail instead, since there a missing service is a broken pipeline (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests.reliability.support import ROOT, VISIBILITY_TIMEOUT, Worker, worker_database_url


@pytest.fixture
def workers(transactional_db, redis_server, tmp_path) -> Iterator[Callable[..., Worker]]:
    """``workers(name, **env)`` starts a worker on the private Redis and the test database; every
    worker started is stopped before pytest-django empties the tables."""
    base_env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_server.url,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "reliability-tests-only",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_UNACKED_RESTORE_SECONDS": "1",
        "HEALTH_RESCORE_DELAY_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
    }
    started: list[Worker] = []

    def start(name: str, *, concurrency: int = 2, **env: str) -> Worker:
        worker = Worker(name, {**base_env, **env}, tmp_path, concurrency=concurrency)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
