import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from engagements.models import Engagement, Milestone
from engagements.services import milestone_set_status
from feedback.models import PulseRequest
from health import scoring, selectors
from health.conf import health_config
from portal import services, tasks
from portal.models import NotificationPreference
from tests import factories

pytestmark = pytest.mark.django_db


def test_monthly_pulses_go_to_each_active_engagements_sponsor_once_a_month(engagement, consultant,
                                                                          django_capture_on_commit_callbacks):
    sponsor = factories.ContactFactory(client=engagement.client, is_sponsor=True, sponsor_since=timezone.localdate(),
                                       email="sponsor@acme.example")
    factories.EngagementFactory(client=engagement.client, status=Engagement.Status.CLOSED,
                                closure_reason="completed")
    factories.EngagementFactory()                                   # a client without sponsor: nothing
    recent = factories.EngagementFactory(client=engagement.client)
    factories.PulseRequestFactory(engagement=recent, contact=sponsor, sent_at=timezone.now() - dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_monthly_pulses() == 1
        assert tasks.send_monthly_pulses() == 0                     # rerun the same day: nothing more
    assert PulseRequest.objects.filter(engagement=engagement, contact=sponsor).count() == 1
    assert [m.to for m in mail.outbox] == [["sponsor@acme.example"]]


def test_status_changes_are_emailed_to_the_clients_portal_users_once(client_user, world, consultant,
                                                                    django_capture_on_commit_callbacks):
    muted = factories.ClientUserFactory(contact__client=world.engagement.client)
    NotificationPreference.objects.create(user=muted, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_status_notifications() == 0              # first sight: remembered, nothing to say
        milestone_set_status(milestone=world.shared, status=Milestone.Status.DONE)
        milestone_set_status(milestone=world.unshared, status=Milestone.Status.DONE)
        assert tasks.send_status_notifications() == 1
        assert tasks.send_status_notifications() == 0              # claimed: never twice
    assert [m.to for m in mail.outbox] == [[client_user.email]]
    assert "“Pilot launch” is now done" in mail.outbox[0].subject
    assert "from In progress to Done" in mail.outbox[0].body


def test_a_status_the_client_set_themselves_is_not_emailed_back(client_user, consultant, world,
                                                                django_capture_on_commit_callbacks):
    tasks.send_status_notifications()
    with django_capture_on_commit_callbacks(execute=True):
        services.portal_milestone_complete(milestone=world.awaiting, user=client_user)
        assert tasks.send_status_notifications() == 0
    assert [m.to for m in mail.outbox] == [[consultant.email]]      # the consultant hears of it; not the client
    assert "marked “Target model v2” as done" in mail.outbox[0].subject


def _facts(engagement):
    windows = scoring.windows_for(timezone.localdate(), health_config())
    return selectors.health_facts(engagement_ids=[engagement.pk], windows=windows)[engagement.pk]


def test_every_client_action_in_the_portal_counts_as_client_initiative(client_user, world):
    services.portal_comment_add(milestone=world.shared, user=client_user, text="A question")
    services.portal_milestone_propose(engagement=world.engagement, user=client_user, title="Our idea",
                                      phase=Milestone.Phase.ACTION)
    before = _facts(world.engagement)
    services.portal_milestone_request_changes(milestone=world.awaiting, user=client_user, comment="Change X")
    world.awaiting.approval_requested = True
    world.awaiting.save()
    services.portal_milestone_approve(milestone=world.awaiting, user=client_user)
    services.portal_milestone_complete(milestone=world.awaiting, user=client_user)
    after = _facts(world.engagement)
    assert before.client_comments_w == 1 and before.milestones_proposed_by_client_w == 1
    assert after.client_comments_w == 3                             # + changes asked, + marked done
    assert after.approvals_w == before.approvals_w + 1


def test_asking_for_changes_keeps_a_proposal_proposed(client_user, world):
    world.awaiting.status = Milestone.Status.PROPOSED
    world.awaiting.save()
    services.portal_milestone_request_changes(milestone=world.awaiting, user=client_user, comment="Not yet")
    world.awaiting.refresh_from_db()
    assert world.awaiting.status == Milestone.Status.PROPOSED and not world.awaiting.approval_requested


def test_a_client_cannot_act_on_an_unshared_or_foreign_milestone_even_through_the_services(
        client_user, world):
    from django.core.exceptions import ValidationError

    for milestone in (world.unshared, world.other_milestone):
        with pytest.raises(ValidationError):
            services.portal_comment_add(milestone=milestone, user=client_user, text="hi")
        with pytest.raises(ValidationError):
            services.portal_milestone_request_changes(milestone=milestone, user=client_user, comment="hi")
    assert not world.unshared.comments.exists() and not world.other_milestone.comments.exists()
