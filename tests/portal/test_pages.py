import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements.models import Milestone, MilestoneComment, Side
from feedback.models import FeedbackResponse
from portal.models import NotificationPreference
from tests import factories

pytestmark = pytest.mark.django_db


def _token(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def _comment(client, milestone, text, **extra):
    page = client.get(reverse("portal:milestone", args=[milestone.pk]))
    return client.post(reverse("portal:milestone_comment", args=[milestone.pk]),
                       {"text": text, "form_token": _token(page)}, **extra)


def test_home_shows_shared_milestones_by_phase_and_what_waits_for_the_client(client, client_user, world):
    client.force_login(client_user)
    content = client.get(reverse("portal:home")).content.decode()
    assert "Your engagements with us" in content
    assert "Target model v2" in content and "Pilot launch" in content
    assert "Waiting for you" in content and "Waiting for your approval" in content
    assert reverse("portal:pulse", args=[world.pulse.pk]) in content
    board = content[content.index('class="board"'):]
    assert board.index("Reflection") < board.index("Target model v2") < board.index("Action") < board.index("Pilot")


def test_home_has_an_empty_state(client, other_client_user):
    client.force_login(other_client_user)
    content = client.get(reverse("portal:home")).content.decode()
    assert "You have no current engagement with us." in content
    assert "Nothing waits for you right now." in content


def test_a_client_comments_and_the_consultant_owner_is_emailed(client, client_user, consultant, world,
                                                              django_capture_on_commit_callbacks):
    client.force_login(client_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _comment(client, world.shared, "Can we add the **regional** view?")
    assert response.status_code == 302
    comment = world.shared.comments.get()
    assert comment.side == Side.CLIENT and comment.author == client_user
    assert [m.to for m in mail.outbox] == [[consultant.email]]
    assert "commented on “Pilot launch”" in mail.outbox[0].subject
    page = client.get(reverse("portal:milestone", args=[world.shared.pk])).content.decode()
    assert "<strong>regional</strong>" in page and client_user.full_name in page


def test_the_thread_is_oldest_first_and_htmx_gets_the_thread_back(client, client_user, consultant, world):
    factories.MilestoneCommentFactory(milestone=world.shared, author=consultant, text="First, from us",
                                      created_at=timezone.now() - dt.timedelta(hours=2))
    client.force_login(client_user)
    response = _comment(client, world.shared, "Second, from the client", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and content.lstrip().startswith('<section id="thread"')
    assert content.index("First, from us") < content.index("Second, from the client")


def test_double_submitting_a_comment_creates_one(client, client_user, world):
    client.force_login(client_user)
    page = client.get(reverse("portal:milestone", args=[world.shared.pk]))
    data = {"text": "Only once please", "form_token": _token(page)}
    url = reverse("portal:milestone_comment", args=[world.shared.pk])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302          # same form token: ignored
    data["form_token"] = _token(client.get(reverse("portal:milestone", args=[world.shared.pk])))
    assert client.post(url, data).status_code == 302          # fresh token, same text seconds later: ignored
    assert world.shared.comments.count() == 1


def test_a_comment_too_long_is_refused_with_a_message_and_kept(client, client_user, world):
    client.force_login(client_user)
    response = _comment(client, world.shared, "x" * 10_000)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value has at most 5000 characters (it has 10000)." in content
    assert "x" * 10_000 in content                            # what was typed is kept
    assert not world.shared.comments.exists()


def test_html_and_script_in_a_comment_are_rendered_harmless(client, client_user, world):
    client.force_login(client_user)
    _comment(client, world.shared, '<script>alert("x")</script> <img src=x onerror=alert(1)> [a](javascript:alert(1))')
    content = client.get(reverse("portal:milestone", args=[world.shared.pk])).content.decode()
    thread = content[content.index('id="thread"'):]
    assert "<script>alert" not in thread and "<img" not in thread and "javascript:" not in thread
    assert "onerror" not in thread and '<a rel="noopener noreferrer nofollow">a</a>' in thread


def test_approving_records_the_approval_once_and_tells_the_consultant(client, client_user, consultant, world,
                                                                     django_capture_on_commit_callbacks):
    client.force_login(client_user)
    url = reverse("portal:milestone_approve", args=[world.awaiting.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
        assert client.post(url).status_code == 302            # double submit: nothing more
    world.awaiting.refresh_from_db()
    assert world.awaiting.approved_at is not None and world.awaiting.approved_by == client_user.contact
    assert not world.awaiting.approval_requested
    assert len(mail.outbox) == 1 and "approved" in mail.outbox[0].subject


def test_a_milestone_that_does_not_await_approval_cannot_be_approved(client, client_user, world):
    client.force_login(client_user)
    response = client.post(reverse("portal:milestone_approve", args=[world.shared.pk]), follow=True)
    assert "not awaiting your approval" in response.content.decode()
    world.shared.refresh_from_db()
    assert world.shared.approved_at is None


def test_asking_for_changes_needs_a_comment_and_sends_it_back_in_progress(client, client_user, world,
                                                                         django_capture_on_commit_callbacks):
    client.force_login(client_user)
    url = reverse("portal:milestone_request_changes", args=[world.awaiting.pk])
    response = client.post(url, {"comment": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    world.awaiting.status = Milestone.Status.AGREED
    world.awaiting.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"comment": "Please add the store view"}).status_code == 302
    world.awaiting.refresh_from_db()
    assert world.awaiting.status == Milestone.Status.IN_PROGRESS and not world.awaiting.approval_requested
    assert world.awaiting.comments.get().side == Side.CLIENT
    assert "asked for changes" in mail.outbox[0].subject
    response = client.post(url, {"comment": "again"}, follow=True)     # no longer awaiting: refused, said
    assert "not awaiting your approval" in response.content.decode()
    assert world.awaiting.comments.count() == 1


def test_a_client_proposes_a_milestone_which_arrives_proposed(client, client_user, world):
    client.force_login(client_user)
    url = reverse("portal:propose", args=[world.engagement.pk])
    response = client.post(url, {"title": "", "phase": "action"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    too_early = world.engagement.start - dt.timedelta(days=1)
    response = client.post(url, {"title": "Store pilot", "phase": "action", "due_date": too_early.isoformat()})
    assert "cannot be before the engagement starts" in response.content.decode()
    assert 'value="Store pilot"' in response.content.decode()
    response = client.post(url, {"title": "Store pilot", "phase": "reflection", "description": "Two stores"})
    milestone = Milestone.objects.get(title="Store pilot")
    assert response.status_code == 302 and response.url == reverse("portal:milestone", args=[milestone.pk])
    assert milestone.status == Milestone.Status.PROPOSED and milestone.proposed_by == Side.CLIENT
    assert milestone.client_owner == client_user.contact and milestone.shared_with_client


def test_the_client_owner_marks_a_milestone_done(client, client_user, world):
    client.force_login(client_user)
    page = client.get(reverse("portal:milestone", args=[world.awaiting.pk])).content.decode()
    assert "Mark as done" in page
    assert "Mark as done" not in client.get(reverse("portal:milestone", args=[world.shared.pk])).content.decode()
    response = client.post(reverse("portal:milestone_complete", args=[world.shared.pk]), {"note": ""}, follow=True)
    assert "Only the milestone&#x27;s client owner" in response.content.decode()
    url = reverse("portal:milestone_complete", args=[world.awaiting.pk])
    assert client.post(url, {"note": "Signed off by the board"}).status_code == 302
    assert client.post(url, {"note": "Signed off by the board"}).status_code == 302
    world.awaiting.refresh_from_db()
    assert world.awaiting.status == Milestone.Status.DONE and world.awaiting.completed_at is not None
    assert list(world.awaiting.comments.values_list("text", "side")) == [("Signed off by the board", "client")]


def test_a_client_answers_a_pulse_in_the_portal_once(client, client_user, world):
    client.force_login(client_user)
    url = reverse("portal:pulse", args=[world.pulse.pk])
    response = client.post(url, {"rating": "9", "involvement": "4"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(url, {"rating": "4", "involvement": "5", "nps": "9", "comment": "Useful"})
    assert "Thank you" in response.content.decode()
    answer = FeedbackResponse.objects.get(request=world.pulse)
    assert (answer.rating, answer.involvement, answer.nps, answer.respondent_contact) == (4, 5, 9, client_user.contact)
    response = client.post(url, {"rating": "1", "involvement": "1"})
    assert response.status_code == 410 and "already been answered" in response.content.decode()
    assert FeedbackResponse.objects.count() == 1


def test_notifications_can_be_turned_off(client, client_user, consultant, world, django_capture_on_commit_callbacks):
    client.force_login(consultant)
    assert client.post(reverse("portal:notifications"), {}).status_code == 302
    assert NotificationPreference.objects.get(user=consultant).email_enabled is False
    client.force_login(client_user)
    with django_capture_on_commit_callbacks(execute=True):
        _comment(client, world.shared, "Nobody will be e-mailed")
    assert mail.outbox == []


def _add_rows(engagement, contact, consultant, client_user, count):
    for index in range(count):
        milestone = factories.MilestoneFactory(engagement=engagement, client_owner=contact,
                                               approval_requested=index % 2 == 0,
                                               phase=Milestone.Phase.values[index % 2])
        factories.MilestoneFactory(engagement=engagement, status=Milestone.Status.DONE, completed_at=timezone.now())
        factories.SessionFactory(engagement=engagement, shared_with_client=True)
        factories.MilestoneCommentFactory(milestone=milestone, author=consultant)
        factories.MilestoneCommentFactory(milestone=milestone, author=client_user, side=Side.CLIENT)


@pytest.mark.parametrize("page", ["home", "engagement", "milestone", "sessions"])
def test_portal_pages_run_a_fixed_number_of_queries(client, client_user, consultant, world, page,
                                                    django_assert_max_num_queries):
    second = factories.EngagementFactory(client=world.engagement.client, lead=consultant)
    client.force_login(client_user)
    url = {"home": reverse("portal:home"),
           "engagement": reverse("portal:engagement", args=[world.engagement.pk]),
           "milestone": reverse("portal:milestone", args=[world.awaiting.pk]),
           "sessions": reverse("portal:sessions", args=[world.engagement.pk])}[page]
    client.get(url)  # warm the session
    counts = []
    for rows in (1, 12):
        for engagement in (world.engagement, second):
            _add_rows(engagement, client_user.contact, consultant, client_user, rows)
        for _ in range(rows):
            factories.MilestoneCommentFactory(milestone=world.awaiting, author=client_user, side=Side.CLIENT)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(14):
        client.get(url)


def test_staff_portal_page_says_where_the_portal_stands_on_each_engagement(client, consultant, client_user, world):
    from django.utils.formats import date_format

    from portal.services import invitation_send

    engagement = world.engagement
    factories.PulseRequestFactory(engagement=engagement, contact=client_user.contact, answered_at=timezone.now())
    factories.PulseRequestFactory(engagement=engagement, contact=client_user.contact,
                                  sent_at=timezone.now() - dt.timedelta(days=30),
                                  expires_at=timezone.now() - dt.timedelta(days=16))
    invitation_send(contact=factories.ContactFactory(client=engagement.client), invited_by=consultant)
    signed_in = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    client_user.last_login = signed_in
    client_user.save(update_fields=["last_login"])
    own_view = dt.datetime(2026, 10, 2, 15, 0, tzinfo=dt.UTC)
    factories.FeedbackResponseFactory(engagement=engagement, side=Side.CONSULTANT, respondent_contact=None,
                                      respondent_user=consultant, submitted_at=own_view)
    client.force_login(consultant)
    response = client.get(reverse("portal:staff_home"))
    row = re.search(r"<tr>\s*<th scope=\"row\">" + re.escape(engagement.title) + r".*?</tr>",
                    response.content.decode(), re.S).group(0)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    # Three pulses sent: one answered, one still open, one expired unanswered.
    assert "1 of 3 answered" in text and "1 waiting for an answer" in text
    assert "1 contact can sign in" in text and "1 invitation pending" in text
    assert date_format(signed_in, "DATE_FORMAT") in text
    assert f"Recorded {date_format(own_view, 'DATE_FORMAT')}" in text
    assert reverse("portal:staff_pulses", args=[engagement.pk]) in row
    assert reverse("portal:staff_contacts", args=[engagement.client_id]) in row
    # Only the consultant's engagements: Globex's is not theirs.
    assert world.other_engagement.title not in response.content.decode()


def test_staff_portal_page_offers_the_first_step_when_nothing_happened_yet(client, consultant, engagement):
    client.force_login(consultant)
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get(reverse("portal:staff_home")).content.decode()).split())
    assert "None sent: send one" in text and "0 contacts can sign in" in text
    assert "never" in text and "Record it" in text


def test_staff_invite_resend_and_revoke_from_the_contacts_page(client, consultant, world,
                                                               django_capture_on_commit_callbacks):
    contact = factories.ContactFactory(client=world.engagement.client, name="Nina New", email="nina@acme.example")
    client.force_login(consultant)
    page = client.get(reverse("portal:staff_contacts", args=[world.engagement.client_id])).content.decode()
    assert "Nina New" in page and "Not invited" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:staff_invite", args=[contact.pk]))
        invitation = contact.portal_invitations.get()
        client.post(reverse("portal:staff_invitation_resend", args=[invitation.pk]))
    assert [m.to for m in mail.outbox] == [["nina@acme.example"], ["nina@acme.example"]]
    assert mail.outbox[0].body != mail.outbox[1].body
    client.post(reverse("portal:staff_invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_staff_send_a_pulse_and_record_a_self_assessment(client, consultant, client_user, world,
                                                         django_capture_on_commit_callbacks):
    client.force_login(consultant)
    url = reverse("portal:staff_pulses", args=[world.engagement.pk])
    response = client.post(url, {})
    assert "Choose at least one contact." in response.content.decode() or "This field is required." in (
        response.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"contacts": [client_user.contact.pk], "session": world.session.pk})
    assert response.status_code == 302
    assert mail.outbox[0].to == [client_user.email] and "/portal/pulse/" in mail.outbox[0].body
    response = client.post(reverse("portal:staff_self_assessment", args=[world.engagement.pk]),
                           {"rating": "5", "involvement": "4", "nps": "8"})
    assert response.status_code == 302
    mine = FeedbackResponse.objects.get(side=Side.CONSULTANT)
    assert mine.respondent_user == consultant and mine.rating == 5


def test_staff_pages_run_a_fixed_number_of_queries(client, consultant, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.services import invitation_send, pulse_send

    client.force_login(consultant)
    urls = (reverse("portal:staff_home"), reverse("portal:staff_contacts", args=[world.engagement.client_id]),
            reverse("portal:staff_pulses", args=[world.engagement.pk]),
            reverse("portal:staff_self_assessment", args=[world.engagement.pk]))
    counts = {}
    for rows in (1, 8):
        for _ in range(rows):
            contact = factories.ContactFactory(client=world.engagement.client)
            invitation_send(contact=contact, invited_by=consultant)
            pulse_send(engagement=world.engagement, contacts=[contact], requested_by=consultant)
            factories.FeedbackResponseFactory(engagement=world.engagement, respondent_contact=contact)
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(queries))
    assert all(first == second <= 12 for first, second in counts.values()), counts


def test_the_portal_speaks_french(client, client_user, world):
    client.force_login(client_user)
    response = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.headers["Content-Language"] == "fr"


def test_comment_counts_in_the_board_match_the_thread(client, client_user, consultant, world):
    MilestoneComment.objects.bulk_create([
        MilestoneComment(milestone=world.shared, author=consultant, side=Side.CONSULTANT, text=str(index),
                         created_at=timezone.now()) for index in range(3)])
    client.force_login(client_user)
    assert "3 comments" in client.get(reverse("portal:home")).content.decode()


def test_a_closed_engagements_milestone_is_a_record_offering_no_action(client, client_user, world):
    from engagements.models import Engagement

    Engagement.objects.filter(pk=world.engagement.pk).update(status=Engagement.Status.CLOSED,
                                                            closure_reason="completed")
    client.force_login(client_user)
    response = client.get(reverse("portal:milestone", args=[world.awaiting.pk]))
    content = response.content.decode()
    assert response.status_code == 200 and "kept as a record" in content
    assert "Post comment" not in content and "Approve" not in content and "Mark as done" not in content
    # Posted anyway (an old tab): refused by the service, nothing stored, the page says why.
    approve = client.post(reverse("portal:milestone_approve", args=[world.awaiting.pk]), follow=True)
    assert "engagement is closed" in approve.content.decode()
    world.awaiting.refresh_from_db()
    assert world.awaiting.approved_at is None and not MilestoneComment.objects.filter(milestone=world.awaiting)
