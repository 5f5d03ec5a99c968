import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse

from portal.selectors import engagement_list
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_asks_for_an_email_and_password(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'type="email"' in response.content and b'type="password"' in response.content


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_login_is_case_insensitive_on_the_email_and_lands_on_home(client, consultant):
    response = client.post(reverse("accounts:login"), {"username": "CONSULTANT@firm.example", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_wrong_password_shows_an_error_and_keeps_the_email(client, consultant):
    response = client.post(reverse("accounts:login"), {"username": consultant.email, "password": "nope"})
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert consultant.email.encode() in response.content


def test_a_consultant_home_lists_only_their_engagements(client, consultant, engagement):
    elsewhere = factories.EngagementFactory(title="Someone else's")
    client.force_login(consultant)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain == [(reverse("engagements:home"), 302)]
    assert engagement.title.encode() in response.content
    assert elsewhere.title.encode() not in response.content


def test_home_sends_each_role_to_its_workspace(client, consultant, manager, client_user):
    workspaces = [(consultant, "engagements:home"), (manager, "dashboard:home"), (client_user, "portal:home")]
    for user, workspace in workspaces:
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response.url == reverse(workspace)


def test_an_account_without_a_role_is_told_to_ask_for_one(client):
    nobody = factories.UserFactory()
    client.force_login(nobody)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Your account is not set up yet" in response.content
    for workspace in ("engagements:home", "dashboard:home", "portal:home"):
        assert client.get(reverse(workspace)).status_code in (302, 404)  # and no workspace lets it in


def test_the_plain_list_shows_a_client_only_their_clients_engagements(rf, client_user, engagement):
    other = factories.EngagementFactory(title="Globex rollout")
    titles = {e.title for e in engagement_list(user=client_user)}
    assert engagement.title in titles and other.title not in titles


def test_home_runs_a_fixed_number_of_queries(client, consultant, django_assert_max_num_queries):
    client.force_login(consultant)
    for _ in range(3):
        factories.EngagementFactory(lead=consultant)
    # "/" only sends a consultant on to the workspace home (tests/engagements/test_views_home.py
    # pins that page); the hop itself must not grow with the portfolio.
    with django_assert_max_num_queries(6) as few:
        assert client.get(reverse("home")).status_code == 302
    for _ in range(30):
        factories.EngagementFactory(lead=consultant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


def test_logout_is_a_post_and_ends_the_session(client, consultant):
    client.force_login(consultant)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_reset_sends_a_single_use_link(client, consultant):
    response = client.post(reverse("accounts:password_reset"), {"email": consultant.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/password/reset/" in mail.outbox[0].body


def test_password_change_validates_length(client, consultant):
    client.force_login(consultant)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert b"too short" in response.content


def test_the_interface_speaks_french_when_asked(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="fr")
    assert 'lang="fr"' in response.content.decode()
    assert "Se connecter" in response.content.decode()


def test_the_language_switcher_changes_the_language(client):
    client.post(reverse("set_language"), {"language": "fr", "next": "/accounts/login/"})
    assert "Se connecter" in client.get(reverse("accounts:login")).content.decode()


def test_a_page_outside_someones_scope_is_a_branded_not_found_page(client, consultant):
    client.force_login(consultant)
    response = client.get(reverse("dashboard:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    content = response.content.decode()
    assert "This page is not here" in content and "Back to my workspace" in content
    assert 'class="skip-link" href="#main"' in content


def test_the_server_error_page_renders_without_a_request():
    # Django renders 500.html with an empty context: it must not need the request or the user.
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and 'href="/"' in html
