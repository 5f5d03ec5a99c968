"""Flag actions from the flag card: consultants acknowledge and add notes; managers also assign,
snooze, resolve and dismiss. Each answers HTMX with the re-rendered card."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from health.models import Flag, FlagEvent
from health.selectors import flag_cards
from health.services import flag_note_add
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(engagement):
    return factories.FlagFactory(engagement=engagement)


def post(client, name, flag, data=None, htmx=True):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse(f"engagements:{name}", args=[flag.pk]), data or {}, **extra)


def test_a_consultant_acknowledges_and_gets_the_card_back(client, consultant, flag):
    client.force_login(consultant)
    response = post(client, "flag_acknowledge", flag)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.ACKNOWLEDGED and flag.owner == consultant
    content = response.content.decode()
    assert f'id="flag-{flag.pk}"' in content and "Flag acknowledged" in content and "<html" not in content


def test_a_consultant_adds_a_note_to_the_history(client, consultant, flag):
    client.force_login(consultant)
    response = post(client, "flag_note", flag, {"note": "Lunch with the new CMO on Friday"})
    assert FlagEvent.objects.get().note == "Lunch with the new CMO on Friday"
    assert "Lunch with the new CMO on Friday" in response.content.decode()


def test_an_empty_note_shows_an_error_in_the_card(client, consultant, flag):
    client.force_login(consultant)
    response = post(client, "flag_note", flag, {"note": ""})
    assert not FlagEvent.objects.exists()
    assert "This field is required" in response.content.decode()


@pytest.mark.parametrize("name", ["flag_assign", "flag_snooze", "flag_resolve", "flag_dismiss"])
def test_a_consultant_may_not_take_manager_actions(client, consultant, flag, name):
    client.force_login(consultant)
    assert post(client, name, flag, {"note": "x"}).status_code == 403
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


def test_a_flag_outside_my_engagements_is_a_404(client, other_consultant, flag):
    client.force_login(other_consultant)
    assert post(client, "flag_acknowledge", flag).status_code == 404


def test_a_client_never_reaches_a_flag(client, client_user, flag):
    client.force_login(client_user)
    assert post(client, "flag_note", flag, {"note": "hi"}).status_code == 404


def test_a_manager_assigns_an_owner(client, manager, other_consultant, flag):
    client.force_login(manager)
    post(client, "flag_assign", flag, {"owner": other_consultant.pk})
    flag.refresh_from_db()
    assert flag.owner == other_consultant
    assert FlagEvent.objects.get().actor == manager


def test_snoozing_needs_a_future_date_and_a_reason(client, manager, flag):
    client.force_login(manager)
    response = post(client, "flag_snooze", flag, {"snoozed_until": timezone.localdate().isoformat(),
                                                  "snooze_reason": "Later"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert "Choose a date after today" in response.content.decode()
    until = timezone.localdate() + dt.timedelta(days=7)
    post(client, "flag_snooze", flag, {"snoozed_until": until.isoformat(), "snooze_reason": "Budget round"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.SNOOZED and flag.snoozed_until == until


def test_resolving_with_repair_keeps_the_plan(client, manager, flag):
    client.force_login(manager)
    response = post(client, "flag_resolve", flag, {"action_plan": "repair",
                                                   "resolution_note": "Monthly strategy review from June"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED and flag.action_plan == "repair"
    assert "Flag resolved" in response.content.decode()


def test_resolving_with_end_continues_to_the_closing_flow(client, manager, flag):
    client.force_login(manager)
    response = post(client, "flag_resolve", flag, {"action_plan": "end", "resolution_note": "Hand over by July"})
    assert response["HX-Redirect"] == reverse("engagements:close", args=[flag.engagement_id])
    response = post(client, "flag_resolve", factories.FlagFactory(engagement=flag.engagement, kind="one_sided"),
                    {"action_plan": "end", "resolution_note": "Same"}, htmx=False)
    assert response.url == reverse("engagements:close", args=[flag.engagement_id])


def test_dismissing_closes_the_flag(client, manager, flag):
    client.force_login(manager)
    post(client, "flag_dismiss", flag, {"note": "Agreed pause"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED


def test_without_htmx_the_action_goes_back_to_the_page(client, consultant, flag):
    client.force_login(consultant)
    response = post(client, "flag_acknowledge", flag, htmx=False)
    assert response.url == reverse("engagements:detail", args=[flag.engagement_id]) + f"#flag-{flag.pk}"


def test_the_card_renders_alone_with_only_the_flag_and_the_user(manager, engagement, django_assert_max_num_queries):
    """The manager's flag queue includes the partial for many flags: it must not query per card."""
    for kind in ("cadence_drop", "one_sided", "sponsor_change", "perception_gap"):
        flag = factories.FlagFactory(engagement=factories.EngagementFactory(), kind=kind)
        flag_note_add(flag=flag, user=manager, text="Looked into it")
    request = RequestFactory().get("/")
    request.user = manager
    with django_assert_max_num_queries(3):  # flags, events, assignable owners (once per request)
        flags = list(flag_cards(Flag.objects.all()))
        html = "".join(render_to_string("workspace/_flag_card.html",
                                        {"flag": f, "user_role": "manager", "request": request}) for f in flags)
    assert html.count("Looked into it") == 4 and "Snooze" in html


def test_resolving_without_a_plan_says_what_is_missing(client, manager, flag):
    client.force_login(manager)
    content = post(client, "flag_resolve", flag, {"action_plan": "", "resolution_note": ""}).content.decode()
    assert "Choose repair or end." in content and "Write down what will be done." in content
    flag.refresh_from_db()
    assert flag.status == "open"


def test_the_snooze_date_cannot_be_picked_before_tomorrow(client, manager, flag):
    client.force_login(manager)
    content = client.get(reverse("engagements:detail", args=[flag.engagement_id])).content.decode()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert f'name="snoozed_until" required min="{tomorrow}"' in content
