"""The milestones board: create, edit (with edit conflicts), move, change status, comment."""

import pytest
from django.urls import reverse

from engagements import services
from engagements.models import Milestone, MilestoneComment
from tests import factories

pytestmark = pytest.mark.django_db


def edit_data(milestone, **overrides):
    data = {"title": milestone.title, "phase": milestone.phase, "status": milestone.status,
            "due_date": milestone.due_date.isoformat() if milestone.due_date else "",
            "description": milestone.description, "shared_with_client": "on", "version": milestone.version}
    data.update(overrides)
    return prefixed(data)


def prefixed(data):
    """Milestone form data as the page posts it: the form is prefixed (it shares the engagement page
    with the session form)."""
    return {f"milestone-{name}": value for name, value in data.items()}


def test_creating_a_milestone_returns_the_board_with_it(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_create", args=[engagement.pk]),
                           prefixed({"title": "Pricing workshop", "phase": "reflection", "status": "agreed",
                                     "shared_with_client": "on"}), HTTP_HX_REQUEST="true")
    milestone = Milestone.objects.get()
    assert (milestone.title, milestone.phase, milestone.consultant_owner) == ("Pricing workshop", "reflection",
                                                                               consultant)
    content = response.content.decode()
    assert 'id="milestones"' in content and "Pricing workshop" in content and "<html" not in content
    # It says so, and the new card is the highlighted one.
    assert 'role="status" data-new-milestone=' in content and "Milestone added." in content
    assert f'data-new-milestone="milestone-{milestone.pk}"' in content  # workspace.js highlights that card


def test_creating_without_a_title_shows_the_error_and_keeps_the_input(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_create", args=[engagement.pk]),
                           prefixed({"title": "", "phase": "action", "status": "agreed",
                                     "description": "Keep this text", "due_date": "1999-01-01"}),
                           HTTP_HX_REQUEST="true")
    assert not Milestone.objects.exists()
    assert "title" in response.context["milestone_form"].errors
    assert "Keep this text" in response.content.decode()


def test_a_due_date_before_the_engagement_start_is_refused_on_the_field(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_create", args=[engagement.pk]),
                           prefixed({"title": "Too early", "phase": "action", "status": "agreed",
                                     "due_date": "1999-01-01"}), HTTP_HX_REQUEST="true")
    assert "due_date" in response.context["milestone_form"].errors


def test_moving_to_done_records_the_completion(client, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement)
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_status", args=[milestone.pk]),
                           {"status": "done", "version": milestone.version}, HTTP_HX_REQUEST="true")
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.completed_at is not None
    assert response.status_code == 200 and 'id="milestones"' in response.content.decode()


def test_the_status_menu_offers_each_other_status_as_a_button_that_works_without_javascript(
        client, consultant, engagement):
    import re

    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap", status=Milestone.Status.AGREED)
    client.force_login(consultant)
    page = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    card = re.search(rf'<article class="ws-milestone[^"]*" id="milestone-{milestone.pk}">.*?</article>', page,
                     re.S).group(0)
    menu = re.search(r'<details class="status-menu">.*?</details>', card, re.S).group(0)
    offered = re.findall(r'<button type="submit" name="status" value="([a-z_]+)"', menu)
    assert offered == ["proposed", "in_progress", "done", "blocked", "dropped"]  # all but the current one
    assert "<select" not in card and "<noscript" not in card
    # A plain form post (no htmx) moves the card and comes back to the page.
    action = re.search(r'<form method="post" action="([^"]+)"', menu).group(1)
    response = client.post(action, {"status": "in_progress", "version": milestone.version})
    milestone.refresh_from_db()
    assert milestone.status == "in_progress" and response.status_code == 302


def test_empty_columns_are_marked_so_they_shrink_to_their_heading(client, consultant, engagement):
    factories.MilestoneFactory(engagement=engagement, phase=Milestone.Phase.ACTION, status=Milestone.Status.AGREED)
    client.force_login(consultant)
    page = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert 'class="ws-board-column status-col-agreed"' in page
    assert 'class="ws-board-column status-col-proposed is-empty"' in page


def test_a_status_change_on_a_stale_card_is_not_applied_and_says_why(client, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    stale_version = milestone.version
    services.milestone_update(milestone=Milestone.objects.get(pk=milestone.pk), title="Roadmap v2")
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_status", args=[milestone.pk]),
                           {"status": "blocked", "version": stale_version}, HTTP_HX_REQUEST="true")
    milestone.refresh_from_db()
    assert milestone.status == "agreed"
    assert "changed by someone else" in response.content.decode()


def test_an_edit_conflict_shows_both_versions_and_keeps_my_input(client, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap", description="Original")
    mine = edit_data(milestone, title="My roadmap", description="My description")
    services.milestone_update(milestone=Milestone.objects.get(pk=milestone.pk), title="Their roadmap")
    client.force_login(consultant)
    url = reverse("engagements:milestone_edit", args=[milestone.pk])
    response = client.post(url, mine)
    assert response.status_code == 200
    milestone.refresh_from_db()
    assert milestone.title == "Their roadmap"  # nothing overwritten
    rows = {row["label"]: row for row in response.context["conflict"]}
    assert rows["Title"]["mine"] == "My roadmap" and rows["Title"]["theirs"] == "Their roadmap"
    assert rows["Title"]["differs"] and not rows["Phase"]["differs"]
    content = response.content.decode()
    assert 'value="My roadmap"' in content and "My description" in content
    assert f'name="milestone-version" value="{milestone.version}"' in content
    # Saving again re-applies my version knowingly.
    response = client.post(url, {**mine, "milestone-version": milestone.version})
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.title == "My roadmap" and milestone.description == "My description"


def test_editing_shows_field_errors_and_keeps_the_input(client, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement)
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_edit", args=[milestone.pk]),
                           edit_data(milestone, title="", description="Still here"))
    assert "title" in response.context["form"].errors and "Still here" in response.content.decode()


def test_moving_up_swaps_with_the_card_above_in_the_same_column(client, consultant, engagement):
    first, other_column, second = (
        factories.MilestoneFactory(engagement=engagement, position=1),
        factories.MilestoneFactory(engagement=engagement, position=2, status="done", completed_at="2026-01-01T00:00Z"),
        factories.MilestoneFactory(engagement=engagement, position=3),
    )
    client.force_login(consultant)
    client.post(reverse("engagements:milestone_move", args=[second.pk]), {"direction": "up"}, HTTP_HX_REQUEST="true")
    order = list(engagement.milestones.order_by("position").values_list("pk", flat=True))
    assert order == [second.pk, other_column.pk, first.pk]


def test_commenting_returns_the_card_with_the_thread_open(client, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement)
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_comment", args=[milestone.pk]),
                           {"text": "Shall we *split* it?"}, HTTP_HX_REQUEST="true")
    comment = MilestoneComment.objects.get()
    assert comment.author == consultant and comment.side == "consultant"
    content = response.content.decode()
    assert "<em>split</em>" in content and "open" in content and f'id="milestone-{milestone.pk}"' in content


def test_client_approvals_are_shown_on_the_card(client, consultant, engagement, client_user):
    milestone = factories.MilestoneFactory(engagement=engagement, approval_requested=True)
    waiting = factories.MilestoneFactory(engagement=engagement, approval_requested=True, title="Waiting one")
    services.milestone_approve(milestone=milestone, approved_by=client_user)
    client.force_login(consultant)
    content = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert f"Approved by {client_user.contact.name}" in content
    assert "Waiting for the client's approval" in content
    assert waiting.title in content


def test_someone_elses_milestone_is_a_404(client, other_consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement)
    client.force_login(other_consultant)
    for name in ("milestone_status", "milestone_move", "milestone_comment"):
        assert client.post(reverse(f"engagements:{name}", args=[milestone.pk]), {}).status_code == 404
    assert client.get(reverse("engagements:milestone_edit", args=[milestone.pk])).status_code == 404


def test_the_add_form_proposes_and_names_an_empty_owner(client, consultant, engagement):
    client.force_login(consultant)
    content = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    form = content.split('class="add-milestone"')[1].split("</form>")[0]
    assert '<option value="proposed" selected>' in form
    assert "---------" not in form and '<option value="" selected>Nobody yet</option>' in form


def test_a_milestone_sent_for_approval_is_proposed_until_the_client_approves(client, consultant, engagement,
                                                                             client_user):
    client.force_login(consultant)
    client.post(reverse("engagements:milestone_create", args=[engagement.pk]),
                prefixed({"title": "Pilot scope", "phase": "action", "status": "agreed",
                          "shared_with_client": "on", "approval_requested": "on"}), HTTP_HX_REQUEST="true")
    milestone = Milestone.objects.get()
    assert milestone.status == "proposed" and milestone.approval_requested
    client.force_login(client_user)
    page = client.get(reverse("portal:milestone", args=[milestone.pk])).content.decode()
    assert "Waiting for your approval" in page and ">Agreed<" not in page
    services.milestone_approve(milestone=milestone, approved_by=client_user)
    milestone.refresh_from_db()
    assert milestone.status == "agreed"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no javascript"])
def test_owners_outside_the_engagement_are_refused_when_adding_or_editing(client, consultant, other_consultant,
                                                                          engagement, htmx):
    """The page's add form lists the people it already read; a posted form still checks the owners
    against the engagement's team and client, so an edited request cannot name anyone else."""
    stranger = factories.ContactFactory()  # a contact of another client
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    client.force_login(consultant)
    response = client.post(reverse("engagements:milestone_create", args=[engagement.pk]),
                           prefixed({"title": "Pricing workshop", "phase": "action", "status": "agreed",
                                     "consultant_owner": other_consultant.pk, "client_owner": stranger.pk}),
                           **headers)
    key = "milestone_form" if htmx else "form"
    assert set(response.context[key].errors) == {"consultant_owner", "client_owner"}
    assert not Milestone.objects.exists()
    milestone = factories.MilestoneFactory(engagement=engagement)
    response = client.post(reverse("engagements:milestone_edit", args=[milestone.pk]),
                           edit_data(milestone, consultant_owner=other_consultant.pk, client_owner=stranger.pk),
                           **headers)
    assert set(response.context["form"].errors) == {"consultant_owner", "client_owner"}
    milestone.refresh_from_db()
    assert milestone.client_owner_id != stranger.pk and milestone.consultant_owner_id != other_consultant.pk
