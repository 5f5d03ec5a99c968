"""The client portal in a real browser: a client works in it, the consultant sees the result, and a
client of another company typing the first client's URLs gets 404 for each."""

import re

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from engagements.models import Milestone, Side
from feedback.models import FeedbackResponse
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme(consultant, engagement, client_user, other_client_user):
    contact = client_user.contact
    return {
        "awaiting": factories.MilestoneFactory(engagement=engagement, title="Target model v2",
                                               approval_requested=True, status=Milestone.Status.IN_PROGRESS,
                                               consultant_owner=consultant, client_owner=contact,
                                               phase=Milestone.Phase.REFLECTION),
        "shared": factories.MilestoneFactory(engagement=engagement, title="Pilot launch", consultant_owner=consultant),
        "unshared": factories.MilestoneFactory(engagement=engagement, title="Internal pricing note",
                                               shared_with_client=False),
        "session": factories.SessionFactory(engagement=engagement, shared_with_client=True,
                                            next_steps="Send the draft", notes="INTERNAL NOTES"),
        "pulse": factories.PulseRequestFactory(engagement=engagement, contact=contact),
        "globex": factories.MilestoneFactory(engagement=factories.EngagementFactory(
            client=other_client_user.contact.client), title="Globex milestone"),
    }


def test_a_client_comments_approves_proposes_and_answers_and_the_consultant_sees_it(
        page, live_server, login, consultant, engagement, client_user, acme):
    login(page, client_user)
    page.goto("/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your engagements with us")
    board = page.locator(".board")
    expect(board).to_contain_text("Target model v2")
    expect(board).to_contain_text("Pilot launch")
    content = page.content()
    assert "Internal pricing note" not in content and "Globex" not in content and "INTERNAL NOTES" not in content

    # Comment on a shared milestone: HTMX swaps the thread in place, the newest comment last.
    page.locator(".waiting").get_by_role("link", name="Target model v2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Target model v2")
    page.get_by_label("Your comment").fill("Can we add the **regional** view?")
    page.get_by_role("button", name="Post comment").dblclick()
    expect(page.locator(".comments li")).to_have_count(1)
    expect(page.locator(".comments li").last).to_contain_text("Can we add the regional view?")
    expect(page.get_by_label("Your comment")).to_have_value("")

    # Approve it.
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # Propose a milestone; a missing title is refused and what was typed is kept.
    page.goto(reverse("portal:propose", args=[engagement.pk]))
    page.get_by_label("Description").fill("Two stores, one month")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.locator(".field-invalid")).to_contain_text("This field is required.")
    expect(page.get_by_label("Description")).to_have_value("Two stores, one month")
    page.get_by_label("Title").fill("Store pilot")
    page.get_by_text("Reflection", exact=True).click()
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Store pilot")
    expect(page.locator(".milestone-facts")).to_contain_text("Proposed")

    # Answer the pulse from the home page.
    page.goto("/portal/")
    page.get_by_role("link", name=re.compile("how is our collaboration going")).click()
    page.locator("label[for=id_rating_3]").click()
    page.locator("label[for=id_involvement_4]").click()
    page.locator("label[for=id_nps_9]").click()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")

    proposal = Milestone.objects.get(title="Store pilot")
    assert (proposal.status, proposal.proposed_by, proposal.phase) == ("proposed", Side.CLIENT, "reflection")
    acme["awaiting"].refresh_from_db()
    assert acme["awaiting"].approved_by == client_user.contact
    assert acme["awaiting"].comments.count() == 1                    # the double click posted once
    answer = FeedbackResponse.objects.get(request=acme["pulse"])
    assert (answer.rating, answer.involvement, answer.nps) == (4, 5, 9)

    # The consultant sees the comment, the approval and the proposal on the engagement page.
    try:
        detail = reverse("engagements:detail", args=[engagement.pk])
    except NoReverseMatch:  # the consultant workspace is not installed: the data above says it all
        return
    page.context.clear_cookies()
    login(page, consultant)
    page.goto(detail)
    content = page.content()
    assert "Store pilot" in content and "Proposed by the client" in content
    assert "Can we add the <strong>regional</strong> view?" in content
    assert f"Approved by {client_user.contact.name}" in content


@pytest.mark.allowed_console_errors(r"status of 404")  # the 404 pages are the point
def test_a_client_of_another_company_gets_404_for_each_of_the_first_clients_urls(
        page, login, engagement, other_client_user, acme):
    login(page, other_client_user)
    milestone = acme["awaiting"].pk
    urls = [reverse("portal:engagement", args=[engagement.pk]), reverse("portal:sessions", args=[engagement.pk]),
            reverse("portal:propose", args=[engagement.pk]), reverse("portal:milestone", args=[milestone]),
            reverse("portal:milestone", args=[acme["shared"].pk]), reverse("portal:pulse", args=[acme["pulse"].pk])]
    for url in urls:
        response = page.goto(url)
        assert response.status == 404, url
    page.goto("/portal/")
    assert "Target model v2" not in page.content()
    expect(page.locator(".board")).to_contain_text("Globex milestone")


def test_portal_screenshots_on_the_demo_data(page, live_server, demo, screenshot):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("client@example.com")
    page.get_by_label("Password").fill("rapport-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/")
    waiting = page.locator(".waiting")
    expect(waiting).to_contain_text("Omnichannel target model v2")
    expect(waiting).to_contain_text("how is our collaboration going")
    screenshot(page, "portal-home", widths=(1280, 390))
    waiting.get_by_role("link", name="Omnichannel target model v2").click()
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    page.get_by_label("Your comment").fill("Looks right. Can we see the **store** view before Friday?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comments li").last).to_contain_text("store view before Friday")
    screenshot(page, "portal-milestone", widths=(1280, 390))


def test_the_consultants_portal_tab_says_where_each_engagement_stands(page, live_server, demo, login, screenshot):
    from accounts.models import User

    login(page, User.objects.get(email="consultant@example.com"), "rapport-demo")
    page.get_by_role("link", name="Client portal").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Client portal")
    row = page.locator("tbody tr", has_text="Omnichannel strategy")
    expect(row).to_contain_text("of 1 answered")
    expect(row).to_contain_text("1 contact can sign in")
    screenshot(page, "portal-staff", widths=(1280, 390))
    row.get_by_role("link", name=re.compile("answered")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback pulses")
