"""Helpers of the reliability tests: a private Redis they can stop and restart, real Celery workers
on the test database that they can kill, and a portfolio big enough to make scoring take a while.

The fault tests need PostgreSQL (a worker process cannot open SQLite's in-memory test database)
and a ``redis-server`` binary. Without them they skip with the reason; under ``CI=true`` they
fail instead, since there a missing service is a broken pipeline (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from django.utils import timezone
from kombu import pools

from clients.models import Client, Contact, SponsorPeriod
from config.celery import app as celery_app
from engagements.models import Engagement, Milestone, MilestoneComment, Session, Side
from feedback.models import FeedbackResponse
from health.models import Flag, HealthSnapshot
from tests import clock, factories

ROOT = Path(__file__).resolve().parents[2]
TODAY = timezone.localdate()
# Short enough for a test to wait for, long enough for any chunk task to finish (they take well
# under a second here): Redis hands a dead worker's tasks to another worker after this long.
VISIBILITY_TIMEOUT = 6


def need(condition: bool, reason: str) -> None:
    """Skip without the service, or fail under CI where every test must run."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1,
             diagnostics: Callable[[], str] = lambda: "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}.\n{diagnostics()}")


def worker_database_url() -> str:
    """The URL of the database pytest-django created, for worker processes to open the same one."""
    db = connection.settings_dict
    need(db["ENGINE"] == "django.db.backends.postgresql",
         "this test needs PostgreSQL (DATABASE_URL=postgres://…): the processes it starts cannot reach "
         "SQLite's in-memory test database")
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


# --- A Redis of the test's own -------------------------------------------------------------------

class RedisServer:
    """A redis-server on a free port, persisting to its own folder like production's
    (docker-compose.yml runs Redis with --appendonly yes), so it can be restarted with its queue."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def answers():
            try:
                return self.client().ping()
            except redis.RedisError:
                return False
        wait_for(answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        """A clean shutdown (what `docker compose restart redis` does): the append-only file is flushed."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(redis.RedisError):
            self.client().shutdown(nosave=True)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued(self) -> int:
        """Messages waiting in the default queue."""
        return self.client().llen("celery")

    def unacked(self) -> int:
        """Messages a worker took and has not acknowledged (redelivered after the visibility timeout)."""
        return self.client().hlen("unacked")


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Make this process queue tasks through the broker at ``url`` instead of running them in-process."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)

    def reset_pools():
        pools.reset()
        celery_app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            celery_app.__dict__["amqp"]._producer_pool = None

    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    reset_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
        reset_pools()


# --- Celery workers ------------------------------------------------------------------------------

class Worker:
    """A Celery worker in its own process group (the main process and its pool children)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, concurrency: int = 2):
        self.name = name
        self.log_path = log_dir / f"worker-{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop())
        # On the suite's clock: a worker scoring "today" must agree with the test about which day it is.
        self.process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            clock.command([sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
                           f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip",
                           "--without-mingle", "--without-heartbeat", "-n", f"{name}-{os.getpid()}@%h"]),
            cwd=ROOT, env=clock.environment(env), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()[-6000:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 60) -> None:
        def ready():
            if not self.alive():
                pytest.fail(f"Worker {self.name} exited with {self.process.returncode}:\n{self.log()}")
            return " ready." in self.log()
        wait_for(ready, timeout=timeout, what=f"worker {self.name} to start", diagnostics=self.log)

    def freeze(self) -> None:
        """SIGSTOP the whole group: what it holds in Redis and has written stays as it is until thaw()."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill9(self) -> None:
        """SIGKILL the whole group at once: no warm shutdown, nothing handed back to the broker."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._log.close()


# --- A portfolio to score ------------------------------------------------------------------------

def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def build_portfolio(size: int) -> list[int]:
    """``size`` active engagements with a year of varied history, inserted in bulk (a few seconds
    for hundreds). Four stories take turns, so snapshots differ and several kinds of flag are raised:
    steady co-production, a drift to KPI reviews after a sponsor change, an engagement gone quiet
    with poor feedback, and a one-sided, expert-led one with late milestones."""
    lead = factories.ConsultantFactory()
    clients = Client.objects.bulk_create([Client(name=f"Load client {i:04d}") for i in range(size)])
    contacts = Contact.objects.bulk_create(
        [Contact(client=c, name=f"Sponsor {c.pk}", email=f"sponsor{c.pk}@client.example",
                 seniority=Contact.Seniority.EXECUTIVE) for c in clients])
    SponsorPeriod.objects.bulk_create(
        [SponsorPeriod(client=contact.client, contact=contact, start=_ago(40 if i % 4 == 1 else 500))
         for i, contact in enumerate(contacts)])
    engagements = Engagement.objects.bulk_create(
        [Engagement(client=c, title=f"Engagement {i:04d}", start=_ago(420), lead=lead,
                    planned_cadence_days=7 + i % 3 * 7) for i, c in enumerate(clients)])
    Engagement.team.through.objects.bulk_create(
        [Engagement.team.through(engagement_id=e.pk, user_id=lead.pk) for e in engagements])

    stories = {
        0: [(d, "strategy" if d % 3 else "co_creation", Side.CLIENT if d % 2 else Side.CONSULTANT)
            for d in range(5, 260, 14)],
        1: [(d, "strategy", Side.CLIENT) for d in range(100, 260, 12)]
           + [(d, "kpi_review", Side.CONSULTANT) for d in range(3, 90, 15)],
        2: [(d, "advisory", Side.CLIENT) for d in range(120, 260, 10)],
        3: [(d, "reporting" if d % 2 else "operational", Side.CONSULTANT) for d in range(2, 250, 9)],
    }
    sessions = Session.objects.bulk_create(
        [Session(engagement=e, start=_at(_ago(days + i % 5)), duration_minutes=30 + 15 * (i % 4), focus=focus,
                 initiated_by=side, advice_requested=(focus in ("strategy", "advisory") and i % 2 == 0))
         for i, e in enumerate(engagements) for days, focus, side in stories[i % 4]])
    sponsor_of = {c.client_id: c for c in contacts}
    through = Session.client_attendees.through
    through.objects.bulk_create([through(session=s, contact=sponsor_of[s.engagement.client_id])
                                 for s in sessions if s.pk % 3])
    milestones = Milestone.objects.bulk_create(
        [Milestone(engagement=e, title=f"Milestone {n}", created_at=_at(_ago(80)), due_date=_ago(10 + n * 7),
                   status=Milestone.Status.DONE if (i % 4 != 3 and n) else Milestone.Status.IN_PROGRESS,
                   completed_at=_at(_ago(12 + n * 7)) if (i % 4 != 3 and n) else None,
                   proposed_by=Side.CLIENT if i % 2 else Side.CONSULTANT, position=n)
         for i, e in enumerate(engagements) for n in range(3)])
    MilestoneComment.objects.bulk_create(
        [MilestoneComment(milestone=m, side=side, text="Noted", created_at=_at(_ago(30)))
         for m in milestones for side in (Side.CLIENT, Side.CONSULTANT)])
    FeedbackResponse.objects.bulk_create(
        [FeedbackResponse(engagement=e, side=side, rating=rating, submitted_at=_at(_ago(days)))
         for i, e in enumerate(engagements)
         for side, rating, days in ((Side.CLIENT, 2 if i % 4 == 2 else 4, 20), (Side.CLIENT, 5, 150),
                                    (Side.CONSULTANT, 5 if i % 4 == 2 else 4, 20))])
    return [e.pk for e in engagements]


def scoring_outcome(as_of: dt.date) -> tuple[list[tuple], list[tuple]]:
    """The snapshots and flags of one date as plain values (no ids, no timestamps), for comparing runs."""
    snapshot_fields = ["engagement_id", "date", "score", "mode", "state", "depth", "balance", "advice_rate",
                       "cadence", "days_since_last_session", "sponsor_presence", "client_rating",
                       "consultant_rating", "perception_gap", "delivery", "components", "algorithm_version"]
    flag_fields = ["engagement_id", "kind", "severity", "status", "evidence", "raised_on", "episode_start",
                   "last_seen_on", "episode_ended_on"]
    snapshots = [tuple(repr(value) for value in row) for row in
                 HealthSnapshot.objects.filter(date=as_of).order_by("engagement_id").values_list(*snapshot_fields)]
    flags = [tuple(repr(value) for value in row) for row in
             Flag.objects.order_by("engagement_id", "kind", "raised_on").values_list(*flag_fields)]
    return snapshots, flags
