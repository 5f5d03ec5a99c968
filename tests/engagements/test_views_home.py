"""The workspace home: my engagements with health, trend, mode, cadence and open flags."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("engagements:home"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_client_user_is_sent_to_their_own_home(client, client_user):
    client.force_login(client_user)
    response = client.get(reverse("engagements:home"))
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_site_home_sends_a_consultant_to_their_engagements(client, consultant):
    client.force_login(consultant)
    assert client.get(reverse("home")).url == reverse("engagements:home")


def test_it_lists_only_my_engagements(client, consultant, engagement):
    elsewhere = factories.EngagementFactory(title="Someone else's")
    client.force_login(consultant)
    content = client.get(reverse("engagements:home")).content.decode()
    assert engagement.title in content and elsewhere.title not in content
    assert "Log a session" in content


def test_a_manager_sees_every_engagement(client, manager, engagement):
    other = factories.EngagementFactory(title="Globex rollout")
    client.force_login(manager)
    content = client.get(reverse("engagements:home")).content.decode()
    assert "All engagements" in content
    assert engagement.title in content and other.title in content


def test_it_shows_the_score_its_trend_the_mode_and_the_open_flags(client, consultant, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=30), score=60)
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=72, mode="co_production",
                                    state="transactional")
    factories.FlagFactory(engagement=engagement)
    factories.FlagFactory(engagement=engagement, kind="one_sided", status="resolved", resolved_at=timezone.now())
    factories.SessionFactory(engagement=engagement, start=timezone.now() - dt.timedelta(days=5))
    client.force_login(consultant)
    response = client.get(reverse("engagements:home"))
    row = response.context["engagements"][0]
    assert row.health.score == 72 and row.health_trend == "up"
    assert row.open_flags == 1 and row.days_since_last_session == 5
    content = response.content.decode()
    assert "Co-production" in content and "Transactional" in content and "rising over a month" in content


def test_closed_engagements_are_hidden_unless_asked(client, consultant, engagement):
    closed = factories.EngagementFactory(lead=consultant, title="Finished work", status=Engagement.Status.CLOSED,
                                         closure_reason="completed")
    client.force_login(consultant)
    assert closed.title not in client.get(reverse("engagements:home")).content.decode()
    assert closed.title in client.get(reverse("engagements:home") + "?closed=1").content.decode()


def test_it_sorts_by_health_worst_first_and_back(client, consultant):
    scores = {"Low": 30, "High": 90, "Mid": 60}
    for title, score in scores.items():
        factories.HealthSnapshotFactory(engagement=factories.EngagementFactory(lead=consultant, title=title),
                                        score=score)
    factories.EngagementFactory(lead=consultant, title="Unscored")
    client.force_login(consultant)
    titles = [e.title for e in client.get(reverse("engagements:home") + "?sort=health").context["engagements"]]
    assert titles == ["Low", "Mid", "High", "Unscored"]
    titles = [e.title for e in client.get(reverse("engagements:home") + "?sort=-health").context["engagements"]]
    assert titles == ["High", "Mid", "Low", "Unscored"]


def test_an_unknown_sort_falls_back_to_the_client_name(client, consultant, engagement):
    client.force_login(consultant)
    assert client.get(reverse("engagements:home") + "?sort=password").context["sort"] == "client"


def _portfolio(consultant, count):
    for _ in range(count):
        engagement = factories.EngagementFactory(lead=consultant)
        factories.SessionFactory(engagement=engagement)
        factories.MilestoneFactory(engagement=engagement)
        factories.FlagFactory(engagement=engagement)
        factories.HealthSnapshotFactory(engagement=engagement)
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=31), score=50)


def test_home_runs_a_fixed_number_of_queries(client, consultant, django_assert_max_num_queries):
    client.force_login(consultant)
    _portfolio(consultant, 5)
    # Session, user, engagements (with last session and live flags as subqueries), latest snapshots, trend;
    # the calendar inbox's counts (its meetings only when some wait).
    with django_assert_max_num_queries(6) as five:
        response = client.get(reverse("engagements:home"))
    assert len(response.context["engagements"]) == 5
    _portfolio(consultant, 95)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(reverse("engagements:home"))
    assert len(response.context["engagements"]) == 50  # the first page of 100
