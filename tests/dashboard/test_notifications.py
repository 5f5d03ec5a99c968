"""E-mails: a notice for each newly raised high flag (once), and the managers' weekly digest."""

import datetime as dt

import pytest
from django.core import mail

from dashboard.tasks import send_weekly_digests
from health import notifications
from health.models import Flag
from health.services import score_engagements
from tests import factories
from tests.dashboard.conftest import TODAY, ago
from tests.health.histories import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting(consultant):
    """An engagement whose conversations went from strategy to KPI reviews: drift_to_transactional (high)."""
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios")
    for days in (200, 170, 140, 110):
        factories.SessionFactory(engagement=engagement, start=at(ago(days)), focus="strategy")
    for days in (80, 50, 20):
        factories.SessionFactory(engagement=engagement, start=at(ago(days)), focus="kpi_review")
    return engagement


def test_a_new_high_flag_emails_the_lead_and_each_manager_once(drifting, consultant, manager,
                                                              django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://rapport.example"
    factories.ManagerFactory(email="inactive@firm.example", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)
    flag = Flag.objects.get(engagement=drifting, kind="drift_to_transactional")
    assert flag.severity == "high"
    assert sorted(m.to[0] for m in mail.outbox) == [consultant.email, manager.email]
    message = mail.outbox[0]
    assert "Drift to transactional" in message.subject and "Helios" in message.subject
    assert f"https://rapport.example/engagements/{drifting.pk}/" in message.body
    assert message.alternatives and "Helios" in message.alternatives[0][0]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)  # rerun: nothing new
    assert mail.outbox == []


def test_backfilled_history_sends_nothing(drifting, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY - dt.timedelta(days=3))
    assert Flag.objects.filter(engagement=drifting, kind="drift_to_transactional").exists()
    assert mail.outbox == []


def test_medium_flags_send_no_notice(manager, engagement):
    flag = factories.FlagFactory(engagement=engagement, severity="medium")
    assert notifications.notify_flags_raised([flag.pk]) == 0
    assert mail.outbox == []


def test_the_weekly_digest_lists_new_flags_score_drops_and_quiet_relationships(manager, consultant,
                                                                              django_assert_max_num_queries):
    other_manager = factories.ManagerFactory(email="second@firm.example")
    falling = factories.EngagementFactory(title="Falling", client__name="Fallco", lead=consultant)
    quiet = factories.EngagementFactory(title="Quiet", client__name="Hushco", planned_cadence_days=14)
    factories.HealthSnapshotFactory(engagement=falling, date=TODAY, score=50, days_since_last_session=3)
    factories.HealthSnapshotFactory(engagement=falling, date=ago(7), score=65)
    factories.HealthSnapshotFactory(engagement=falling, date=ago(30), score=80)
    factories.HealthSnapshotFactory(engagement=quiet, date=TODAY, score=70, days_since_last_session=40)
    factories.FlagFactory(engagement=falling, kind="feedback_decline", severity="medium", raised_on=ago(2))
    factories.FlagFactory(engagement=quiet, kind="one_sided", raised_on=ago(20))  # older than a week

    with django_assert_max_num_queries(16):  # seven per manager, whatever the portfolio size
        sent = send_weekly_digests.delay(TODAY.isoformat()).get()
    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([manager.email, other_manager.email])
    body = mail.outbox[0].body
    assert "Feedback decline — Fallco: Falling" in body
    assert "One-sided" not in body
    assert "Fallco: Falling — 65 → 50 (-15)" in body
    assert "Fallco: Falling — 80 → 50 (-30)" in body
    assert "Hushco: Quiet — 40 days without a session (planned every 14)" in body
    assert "1 new flag" in mail.outbox[0].subject
