"""Rescore requests (coalesced, after commit) and the Celery tasks behind them."""

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from engagements.models import Engagement
from health import tasks
from health.models import HealthSnapshot, PendingRescore
from health.services import request_rescore
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued():
    """Record the rescore tasks queued instead of running them."""
    with mock.patch.object(tasks.score_engagement, "apply_async") as apply_async:
        yield apply_async


def queued_ids(apply_async):
    return [call.kwargs["args"][0] for call in apply_async.call_args_list]


def test_ten_saves_in_one_transaction_queue_one_rescore(engagement, queued, django_capture_on_commit_callbacks):
    other = factories.EngagementFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(10):
            request_rescore(engagement_id=engagement.pk)
        request_rescore(engagement_id=other.pk)

    assert len(callbacks) == 1
    assert sorted(queued_ids(queued)) == sorted([engagement.pk, other.pk])
    assert queued.call_args.kwargs["countdown"] == 10


def test_nothing_is_queued_before_commit(engagement, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        request_rescore(engagement_id=engagement.pk)
    assert queued.call_count == 0


def test_saves_from_several_requests_share_the_pending_rescore(engagement, queued,
                                                               django_capture_on_commit_callbacks):
    for _ in range(3):  # three requests in a row, each its own transaction
        with django_capture_on_commit_callbacks(execute=True):
            request_rescore(engagement_id=engagement.pk)

    assert queued_ids(queued) == [engagement.pk]
    assert PendingRescore.objects.filter(engagement=engagement).exists()


def test_a_save_after_the_rescore_started_queues_another(engagement, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(engagement_id=engagement.pk)
    tasks.score_engagement.run(engagement.pk)  # the worker picks it up and clears the mark
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(engagement_id=engagement.pk)

    assert queued_ids(queued) == [engagement.pk, engagement.pk]


def test_a_stale_mark_is_queued_again(engagement, queued, django_capture_on_commit_callbacks):
    PendingRescore.objects.create(engagement=engagement, requested_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(engagement_id=engagement.pk)

    assert queued_ids(queued) == [engagement.pk]
    assert PendingRescore.objects.get(engagement=engagement).requested_at > timezone.now() - dt.timedelta(minutes=1)


def test_a_rolled_back_save_queues_nothing_and_the_next_one_does(engagement, queued,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            request_rescore(engagement_id=engagement.pk)
            raise RuntimeError("validation failed further down")
        request_rescore(engagement_id=engagement.pk)

    assert queued_ids(queued) == [engagement.pk]


def test_a_deleted_engagement_is_not_queued(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(engagement_id=987654)
    assert queued.call_count == 0


def test_in_process_a_save_rescores_the_engagement_today(engagement, django_capture_on_commit_callbacks):
    factories.SessionFactory(engagement=engagement)
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(engagement_id=engagement.pk)

    snapshot = HealthSnapshot.objects.get(engagement=engagement)
    assert snapshot.date == timezone.localdate()
    assert snapshot.depth == 1.0
    assert not PendingRescore.objects.exists()


def test_task_for_a_deleted_engagement_ends_quietly():
    assert tasks.score_engagement.delay(987654).get() == 0
    assert not HealthSnapshot.objects.exists()


def test_score_all_fans_out_chunks_over_scored_engagements(settings):
    settings.HEALTH = {**settings.HEALTH, "BATCH_SIZE": 2}
    scored = [factories.EngagementFactory(status=status) for status in
              ("active", "active", "paused", "closing", "active")]
    factories.EngagementFactory(status=Engagement.Status.PROPOSED)
    factories.EngagementFactory(status=Engagement.Status.CLOSED, closure_reason="completed")
    factories.EngagementFactory(start=timezone.localdate() + dt.timedelta(days=10))  # not started

    with mock.patch.object(tasks.score_batch, "run", wraps=tasks.score_batch.run) as chunk:
        assert tasks.score_all.delay().get() == 3

    assert [len(call.args[0]) for call in chunk.call_args_list] == [2, 2, 1]
    assert set(HealthSnapshot.objects.values_list("engagement_id", flat=True)) == {e.pk for e in scored}


def test_score_all_scores_the_date_it_was_given():
    engagement = factories.EngagementFactory(start=dt.date(2024, 6, 1))
    tasks.score_all.delay("2025-01-31").get()
    assert HealthSnapshot.objects.get(engagement=engagement).date == dt.date(2025, 1, 31)
