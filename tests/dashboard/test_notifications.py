"""E-mails: a notice for each newly raised high flag (once), and the managers' weekly digest."""

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.core import mail
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard.tasks import send_weekly_digests
from health import notifications, tasks
from health.models import Flag
from health.services import flag_resolve, score_engagements
from tests import factories
from tests.dashboard.conftest import TODAY, ago
from tests.health.histories import strategy_then_kpi_reviews

pytestmark = pytest.mark.django_db


@pytest.fixture
def drifting(consultant):
    """An engagement whose conversations went from strategy to KPI reviews: drift_to_transactional (high)."""
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios")
    return strategy_then_kpi_reviews(engagement, today=TODAY)


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


def test_a_notice_the_broker_could_not_take_goes_out_with_the_sweep(drifting, consultant, manager,
                                                                   django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.send_flag_notifications, "delay",
                           side_effect=KombuOperationalError("Connection refused")), \
            django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)  # the scores commit; the task is lost
    flag = Flag.objects.get(engagement=drifting, kind="drift_to_transactional")
    assert mail.outbox == [] and flag.notified_at is None

    assert tasks.sweep_flag_notifications.delay().get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == [consultant.email, manager.email]
    flag.refresh_from_db()
    assert flag.notified_at is not None
    assert tasks.sweep_flag_notifications.delay().get() == 0  # once only
    assert len(mail.outbox) == 2


def test_a_failed_mail_server_leaves_the_notice_due_for_the_next_try(drifting, manager,
                                                                     django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.send_flag_notifications, "delay", side_effect=KombuOperationalError("down")), \
            django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)
    refused = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused), \
            pytest.raises(smtplib.SMTPServerDisconnected):
        notifications.notify_pending_flags()
    flag = Flag.objects.get(engagement=drifting, kind="drift_to_transactional")
    assert flag.notified_at is None and mail.outbox == []  # the claim was given back: still due
    assert notifications.notify_pending_flags() == 2
    assert notifications.notify_pending_flags() == 0


def test_one_refused_recipient_neither_blocks_the_others_nor_brings_repeats(drifting, consultant, manager,
                                                                           django_capture_on_commit_callbacks):
    gone = factories.ManagerFactory(email="left-the-firm@firm.example")
    with mock.patch.object(tasks.send_flag_notifications, "delay", side_effect=KombuOperationalError("down")), \
            django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)
    deliver = mail.backends.locmem.EmailBackend.send_messages

    def refuse_one(backend, messages):
        """As Django's SMTP backend does: messages go out in turn until the refused one raises."""
        sent = 0
        for message in messages:
            if message.to == [gone.email]:
                raise smtplib.SMTPRecipientsRefused({gone.email: (550, b"No such mailbox")})
            sent += deliver(backend, [message])
        return sent

    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse_one):
        assert notifications.notify_pending_flags() == 2  # the lead and the other manager
        assert notifications.notify_pending_flags() == 0  # the next sweep: no repeat for anyone
    assert sorted(m.to[0] for m in mail.outbox) == [consultant.email, manager.email]
    assert Flag.objects.get(engagement=drifting, kind="drift_to_transactional").notified_at is not None


def test_a_flag_closed_before_its_notice_went_out_is_not_mailed(drifting, manager, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.send_flag_notifications, "delay", side_effect=KombuOperationalError("down")), \
            django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[drifting.pk], as_of=TODAY)
    flag = Flag.objects.get(engagement=drifting, kind="drift_to_transactional")
    flag_resolve(flag=flag, user=manager, action_plan="repair", note="Workshop with the new CMO next week.")
    assert notifications.notify_pending_flags() == 0 and mail.outbox == []


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
