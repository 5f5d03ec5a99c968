"""With the broker down, saves still succeed and pages still render; the rescores that could not be
queued stay as pending marks, and the next successful enqueue or the sweep sends them.

No Redis needed: "down" is a port nobody listens on. Runs on SQLite and PostgreSQL.
"""

import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import MilestoneComment, Session
from engagements.services import session_log
from health import services as health_services
from health.models import HealthSnapshot, PendingRescore
from tests import factories
from tests.reliability.support import celery_broker, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def _eager_tasks():
    """Overrides tests/conftest.py's: here tasks go to a broker, which is down."""
    yield


@pytest.fixture(autouse=True)
def _fresh_broker_state(monkeypatch):
    monkeypatch.setattr(health_services._broker_state, "resting_until", 0.0)


@pytest.fixture
def broker_down():
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"):
        yield


@pytest.fixture
def broker_up():
    """A working broker, as far as this process can tell: tasks run in-process when queued."""
    with celery_broker("memory://"):
        from config.celery import app
        app.conf.task_always_eager = True
        yield


def log_session(engagement, user):
    return session_log(engagement=engagement, logged_by=user, start=timezone.now(), duration_minutes=45,
                       focus=Session.Focus.STRATEGY, initiated_by="client")


def is_stale(mark: PendingRescore) -> bool:
    config = health_services.health_config()
    return (timezone.now() - mark.requested_at).total_seconds() > config.rescore_stale_after_seconds


def test_a_session_saved_while_the_broker_is_down_is_kept_with_a_stale_mark(
        broker_down, consultant, engagement, django_capture_on_commit_callbacks, caplog):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        session = log_session(engagement, consultant)
    assert time.monotonic() - started < 3, "a broker that refuses connections must fail fast"

    assert Session.objects.filter(pk=session.pk).exists()
    mark = PendingRescore.objects.get(engagement=engagement)
    assert is_stale(mark), "no task is on its way: the mark must be picked up by the next enqueue or sweep"
    assert "kept as pending for the sweep" in caplog.text


def test_while_resting_after_a_failure_saves_do_not_touch_the_broker(
        broker_down, consultant, engagement, django_capture_on_commit_callbacks, monkeypatch):
    with django_capture_on_commit_callbacks(execute=True):
        log_session(engagement, consultant)
    other = factories.EngagementFactory(lead=consultant)

    from health import tasks
    calls = []
    monkeypatch.setattr(tasks.score_engagement, "apply_async", lambda *a, **k: calls.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        log_session(other, consultant)

    assert calls == []
    assert is_stale(PendingRescore.objects.get(engagement=other))


def test_the_next_successful_enqueue_sends_the_rescores_left_behind(
        consultant, engagement, django_capture_on_commit_callbacks, settings):
    settings.HEALTH = {**settings.HEALTH, "RESCORE_DELAY_SECONDS": 0}
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"), django_capture_on_commit_callbacks(execute=True):
        log_session(engagement, consultant)
    assert not HealthSnapshot.objects.filter(engagement=engagement).exists()

    health_services._broker_state.resting_until = 0.0  # the rest is over
    # The broker "works" again: tasks run in-process when queued (whatever REDIS_URL says, so the
    # test does not depend on a worker listening there).
    other = factories.EngagementFactory(lead=consultant)
    with celery_broker("memory://"):
        from config.celery import app

        app.conf.task_always_eager = True
        with django_capture_on_commit_callbacks(execute=True):
            log_session(other, consultant)

    assert set(HealthSnapshot.objects.values_list("engagement_id", flat=True)) == {engagement.pk, other.pk}
    assert not PendingRescore.objects.exists()


def test_the_sweep_sends_stale_marks_and_leaves_fresh_ones(broker_up, consultant, settings):
    settings.HEALTH = {**settings.HEALTH, "RESCORE_DELAY_SECONDS": 0}
    lost, on_its_way = factories.EngagementFactory(lead=consultant), factories.EngagementFactory(lead=consultant)
    config = health_services.health_config()
    PendingRescore.objects.create(engagement=lost, requested_at=timezone.now() - timezone.timedelta(
        seconds=config.rescore_stale_after_seconds + 60))
    PendingRescore.objects.create(engagement=on_its_way, requested_at=timezone.now())

    assert health_services.pending_rescores_sweep() == 1

    assert list(HealthSnapshot.objects.values_list("engagement_id", flat=True)) == [lost.pk]
    assert list(PendingRescore.objects.values_list("engagement_id", flat=True)) == [on_its_way.pk]


def test_the_sweep_ignores_the_rest_after_a_failure(broker_up, consultant, settings):
    settings.HEALTH = {**settings.HEALTH, "RESCORE_DELAY_SECONDS": 0}
    engagement = factories.EngagementFactory(lead=consultant)
    PendingRescore.objects.create(engagement=engagement, requested_at=timezone.now() - timezone.timedelta(days=1))
    health_services._broker_state.resting_until = time.monotonic() + 60

    assert health_services.pending_rescores_sweep() == 1
    assert HealthSnapshot.objects.filter(engagement=engagement).exists()


def test_the_sweep_task_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["health-sweep-pending-rescores"]
    assert entry["task"] == "health.tasks.sweep_pending_rescores"
    assert entry["schedule"] <= 5 * 60


def test_pages_render_and_writes_succeed_with_the_broker_down(
        broker_down, client, consultant, engagement, client_user, django_capture_on_commit_callbacks):
    client.force_login(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("engagements:session_new"), {
            "engagement": engagement.pk, "start": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 45, "channel": "call", "focus": "advisory", "initiated_by": "client",
            "notes": "Logged while Redis is down."})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("engagements:home")).status_code == 200

    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True)
    client.force_login(client_user)
    page = client.get(reverse("portal:milestone", args=[milestone.pk]))
    assert page.status_code == 200
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:milestone_comment", args=[milestone.pk]),
                               {"text": "Fine by us.", "form_token": token})
    assert response.status_code == 302
    assert MilestoneComment.objects.filter(milestone=milestone, text="Fine by us.").exists()
    assert client.get(reverse("portal:home")).status_code == 200
    assert PendingRescore.objects.filter(engagement=engagement).exists()
