"""The engagement page: header, timeline, milestones board, KPIs, health card and flags."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Contact
from engagements.models import Session
from health.services import flag_note_add
from tests import factories
from workspace.forms import MilestoneForm, SessionForm

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def url(engagement, name="engagements:detail"):
    return reverse(name, args=[engagement.pk])


def test_it_shows_client_sponsor_team_and_dates(client, consultant, other_consultant):
    engagement = factories.EngagementFactory(lead=consultant, client__name="Acme", team=[other_consultant])
    factories.ContactFactory(client=engagement.client, name="Sam Sponsor", is_sponsor=True,
                             sponsor_since=TODAY, seniority=Contact.Seniority.EXECUTIVE)
    client.force_login(consultant)
    content = client.get(url(engagement)).content.decode()
    for text in ("Acme", engagement.title, "Sam Sponsor", str(other_consultant), "open-ended"):
        assert text in content


def test_another_consultants_engagement_is_a_404(client, other_consultant, engagement):
    client.force_login(other_consultant)
    assert client.get(url(engagement)).status_code == 404


def test_a_client_user_cannot_open_the_workspace_page(client, client_user, engagement):
    client.force_login(client_user)
    assert client.get(url(engagement)).status_code == 404


def test_a_manager_opens_any_engagement(client, manager, engagement):
    client.force_login(manager)
    assert client.get(url(engagement)).status_code == 200


def test_the_timeline_filters_by_focus_without_a_reload(client, consultant, engagement):
    factories.SessionFactory(engagement=engagement, focus=Session.Focus.STRATEGY, notes="Strategy talk")
    factories.SessionFactory(engagement=engagement, focus=Session.Focus.REPORTING, notes="Monthly report")
    client.force_login(consultant)
    response = client.get(url(engagement, "engagements:timeline") + "?focus=reporting", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="timeline"' in content and "<html" not in content
    assert "Monthly report" in content and "Strategy talk" not in content


def test_the_timeline_pages_older_sessions(client, consultant, engagement):
    for days in range(12):
        factories.SessionFactory(engagement=engagement, start=timezone.now() - dt.timedelta(days=days + 1),
                                 notes=f"Session {days}")
    client.force_login(consultant)
    first = client.get(url(engagement)).content.decode()
    assert "Session 0" in first and "Session 11" not in first and "Older sessions" in first
    more = client.get(url(engagement, "engagements:timeline") + "?page=2", HTTP_HX_REQUEST="true")
    assert "Session 11" in more.content.decode()


def test_the_health_card_explains_every_component(client, consultant, engagement):
    components = {"depth": {"value": 0.4, "weight": 0.3, "share": 0.5, "points": 20.0,
                            "evidence": {"consultative_minutes": 240, "minutes": 600}},
                  "feedback": {"value": None, "weight": 0.15, "share": None, "points": None,
                               "evidence": {"mean_client_rating": None, "responses": 0}}}
    factories.HealthSnapshotFactory(engagement=engagement, score=64, state="transactional", components=components)
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=60), score=80, depth=0.7)
    client.force_login(consultant)
    response = client.get(url(engagement))
    content = response.content.decode()
    assert "Depth: consultative share of session time" in content and "Consultative minutes" in content
    assert "240" in content and "no data" in content and "Transactional" in content
    history = response.context["health_history"]
    assert history["score"][-1] == 64 and history["score"][0] == 80 and history["depth"][0] == 70.0
    assert 'id="health-history-data"' in content


def test_an_unscored_engagement_says_so(client, consultant, engagement):
    client.force_login(consultant)
    assert "Not scored yet" in client.get(url(engagement)).content.decode()


def test_open_flags_show_their_evidence_and_consultant_actions(client, consultant, engagement):
    factories.FlagFactory(engagement=engagement, evidence={"days_without_session": 40, "planned_cadence_days": 14,
                                                           "reasons": ["gap"]})
    client.force_login(consultant)
    content = client.get(url(engagement)).content.decode()
    assert "Cadence drop" in content and "No session in 40 days" in content and "Days without a session" in content
    assert "Acknowledge" in content and "Add a note" in content
    assert "Snooze" not in content and "Dismiss" not in content


def test_kpis_carry_their_values_for_the_chart(client, consultant, engagement):
    kpi = factories.KPIFactory(engagement=engagement, name="Cost per parcel", target=12)
    for days, value in [(60, 14), (30, 13), (1, 12.5)]:
        factories.KPIMeasurementFactory(kpi=kpi, date=TODAY - dt.timedelta(days=days), value=value)
    client.force_login(consultant)
    response = client.get(url(engagement))
    [shown] = response.context["kpis"]
    assert shown.chart["values"] == [14.0, 13.0, 12.5] and shown.chart["target"] == 12.0
    assert f'id="kpi-data-{kpi.pk}"' in response.content.decode()


def test_notes_with_script_are_rendered_harmless(client, consultant, engagement):
    factories.SessionFactory(engagement=engagement, notes='Hello <script>alert("x")</script> '
                             '<img src=x onerror=alert(1)> [click](javascript:alert(2))')
    client.force_login(consultant)
    content = client.get(url(engagement)).content.decode()
    assert '<script>alert("x")' not in content and "onerror=alert" not in content.replace("&lt;", "")
    assert 'href="javascript:' not in content


def _fill(engagement, count, first_day=1, kind="cadence_drop"):
    contact = factories.ContactFactory(client=engagement.client)
    kpi = factories.KPIFactory(engagement=engagement)
    for i in range(count):
        factories.SessionFactory(engagement=engagement, client_attendees=[contact])
        milestone = factories.MilestoneFactory(engagement=engagement, status=["agreed", "done", "in_progress"][i % 3],
                                               completed_at=timezone.now(), client_owner=contact)
        factories.MilestoneCommentFactory(milestone=milestone)
        factories.KPIMeasurementFactory(kpi=kpi)
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=first_day + i))
    flag = factories.FlagFactory(engagement=engagement, kind=kind)
    for _ in range(count // 10 + 1):
        flag_note_add(flag=flag, user=engagement.lead, text="Called the sponsor")


def test_the_page_runs_a_fixed_number_of_queries(client, consultant, engagement, django_assert_num_queries):
    client.force_login(consultant)
    _fill(engagement, 5)
    # Session, user, engagement (with its session and KPI counts and the user's last session id),
    # team, the client's contacts (header, attendees, owner menus), health card and chart, the
    # timeline's page with its attendees, milestones, comments, KPIs, their values, flags, flag
    # events, planned breaks, the calendar inbox (one query while empty).
    with django_assert_num_queries(14):
        client.get(url(engagement))
    _fill(engagement, 95, first_day=10, kind="one_sided")
    with django_assert_num_queries(14):
        response = client.get(url(engagement))
    assert response.context["milestone_count"] == 100
    assert len(response.context["sessions_page"].object_list) == 10


def _load_like_engagement(*, lead, size: int):
    """An engagement like the load portfolio's: ``size`` sessions, milestones with a comment each and
    weekly snapshots, and a live flag; no KPI."""
    engagement = factories.EngagementFactory(lead=lead)
    contact = factories.ContactFactory(client=engagement.client)
    for i in range(size):
        factories.SessionFactory(engagement=engagement, client_attendees=[contact])
        milestone = factories.MilestoneFactory(engagement=engagement, client_owner=contact)
        factories.MilestoneCommentFactory(milestone=milestone)
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=7 * i))
    factories.FlagFactory(engagement=engagement)
    return engagement


def test_on_a_portfolio_like_the_load_tests_the_page_runs_twelve_queries(client, consultant,
                                                                       django_assert_num_queries):
    """The load portfolio's engagements: sessions, milestones with comments, snapshots and a live
    flag, no KPI; the consultant's own latest session is on the timeline's first page."""
    client.force_login(consultant)
    for size in (3, 40):
        engagement = _load_like_engagement(lead=consultant, size=size)
        factories.SessionFactory(engagement=engagement, logged_by=consultant, start=timezone.now())
        with django_assert_num_queries(12):
            response = client.get(url(engagement))
        assert response.context["session_form"].initial["client_attendees"] is not None


def test_a_managers_page_on_a_portfolio_like_the_load_tests_runs_seventeen_queries(client, manager, consultant,
                                                                                django_assert_num_queries):
    """The consultant's twelve, plus the open flag's owner menu and the audit trail's four reads
    (engagement, sessions, milestones, flags), at two sizes."""
    client.force_login(manager)
    for size in (3, 40):
        engagement = _load_like_engagement(lead=consultant, size=size)
        with django_assert_num_queries(17):
            response = client.get(url(engagement))
        assert len(response.context["audit_trail"]) == min(25, 1 + 2 * size + 1)


def test_the_log_forms_defaults_cost_two_queries_when_the_last_own_session_is_not_shown(
        client, consultant, engagement, django_assert_num_queries):
    client.force_login(consultant)
    mine = factories.SessionFactory(engagement=engagement, logged_by=consultant, duration_minutes=95,
                                    start=timezone.now() - dt.timedelta(days=300))
    for _ in range(12):  # newer sessions push it off the first page
        factories.SessionFactory(engagement=engagement)
    # No KPI, milestone or flag; no snapshot in a year (the health card looks further back); then that
    # session and its attendees.
    with django_assert_num_queries(11 + 2):
        response = client.get(url(engagement))
    assert mine not in response.context["sessions_page"].object_list
    assert response.context["session_form"].initial["duration_minutes"] == 95


def test_the_milestone_forms_share_box_is_not_the_session_forms(client, consultant, engagement):
    """Regression: both forms had ``id_shared_with_client``, so the milestone form's label ticked the
    session form's "Share the summary with the client" box and the next session went to the client."""
    client.force_login(consultant)
    content = client.get(url(engagement)).content.decode()
    session_form = content.split('id="log-session-form"')[1].split("</form>")[0]
    milestone_form = content.split('class="add-milestone"')[1].split("</form>")[0]
    session_box = re.search(r'<input type="checkbox" name="shared_with_client" id="([^"]+)"', session_form)
    milestone_box = re.search(r'<input type="checkbox" name="milestone-shared_with_client"[^>]* id="([^"]+)"',
                              milestone_form)
    assert session_box and milestone_box
    assert session_box.group(1) != milestone_box.group(1)
    assert f'for="{milestone_box.group(1)}"' in milestone_form
    assert content.count(f'id="{session_box.group(1)}"') == 1


def test_the_page_offers_the_people_it_read_but_a_submitted_form_checks_them_in_the_database(
        client, consultant, engagement):
    """The page's empty forms list the team and contacts it already read, without querysets of
    their own; a submitted form cannot be built that way (it must check the people chosen)."""
    contact = factories.ContactFactory(client=engagement.client, name="Ada Client")
    factories.ContactFactory(client=engagement.client, name="Left Already", active=False)
    client.force_login(consultant)
    content = client.get(url(engagement)).content.decode()
    milestone_form = content.split('class="add-milestone"')[1].split("</form>")[0]
    session_form = content.split('id="log-session-form"')[1].split("</form>")[0]
    assert f'<option value="{contact.pk}">Ada Client</option>' in milestone_form
    assert f'<option value="{consultant.pk}" selected>' in milestone_form
    assert "Ada Client" in session_form and "Left Already" not in content
    assert f'<input type="hidden" name="engagement" value="{engagement.pk}"' in session_form
    with pytest.raises(ValueError):
        MilestoneForm({"milestone-title": "Plan"}, user=consultant, engagement=engagement, owners_loaded=True)
    with pytest.raises(ValueError):
        SessionForm({"focus": "strategy"}, user=consultant, engagement=engagement, fixed_engagement=True,
                    attendees_loaded=True)
