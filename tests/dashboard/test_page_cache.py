"""The portfolio page is cached until something it shows changes (dashboard/caching.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import caching
from dashboard.caching import portfolio_versions
from health.models import Flag
from health.services import flag_resolve, score_engagements
from tests import factories
from tests.dashboard.conftest import TODAY, build_portfolio

pytestmark = pytest.mark.django_db

HOME = "dashboard:home"


def _get(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(HOME) + query)
    assert response.status_code == 200
    return response, len(queries)


def test_a_second_visit_is_served_from_the_cache_with_the_same_content(client, manager):
    build_portfolio(30)
    client.force_login(manager)
    first, first_queries = _get(client)
    second, second_queries = _get(client)
    assert second.context["portfolio"] == first.context["portfolio"]
    # Session, user and the portfolio version; none of the page's own reads.
    assert (first_queries, second_queries) == (8, 3)


def test_each_filter_and_sort_has_its_own_page(client, manager):
    build_portfolio(30)
    client.force_login(manager)
    everything, _ = _get(client)
    transactional, queries = _get(client, "?state=transactional")
    assert queries == 8  # not the cached unfiltered page
    assert transactional.content != everything.content


def test_resolving_a_flag_shows_on_the_next_visit(client, manager, engagement, django_capture_on_commit_callbacks):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=40)
    flag = factories.FlagFactory(engagement=engagement, kind="drift_to_transactional", severity="high")
    client.force_login(manager)
    assert _get(client)[0].context["live_flags"] == 1
    version = portfolio_versions()
    with django_capture_on_commit_callbacks(execute=True):
        flag_resolve(flag=flag, user=manager, action_plan=Flag.ActionPlan.REPAIR, note="Workshop with the new CMO.")
    assert portfolio_versions()[0] > version[0]  # a person's change: no grace period
    response, queries = _get(client)
    assert queries == 8 and response.context["live_flags"] == 0


def test_a_scoring_run_shows_within_the_grace_period(client, manager, engagement, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    factories.SessionFactory.create_batch(3, engagement=engagement)
    clock = [1_000_000.0]
    monkeypatch.setattr(caching, "_now", lambda: clock[0])
    client.force_login(manager)
    assert b"not scored" in _get(client)[0].content
    versions = portfolio_versions()
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)
    assert portfolio_versions() == (versions[0], versions[1] + 1)  # a rescore, not a person's change
    # A page built moments before is still served: rescores come every few seconds on a busy day.
    clock[0] += caching.RESCORE_GRACE_SECONDS - 1
    response, queries = _get(client)
    assert queries == 3 and b"not scored" in response.content
    clock[0] += 2
    response, queries = _get(client)
    assert queries == 8 and response.context["page"].object_list[0].score is not None
    # Rebuilt after the rescore, it is current again: served from the cache however old it gets.
    clock[0] += caching.RESCORE_GRACE_SECONDS * 5
    assert _get(client)[1] == 3


def test_renaming_an_engagement_or_its_client_shows_on_the_next_visit(client, manager, engagement,
                                                                      django_capture_on_commit_callbacks):
    client.force_login(manager)
    assert engagement.title.encode() in _get(client)[0].content
    with django_capture_on_commit_callbacks(execute=True):
        engagement.title = "Pricing strategy, phase two"
        engagement.save()
    assert b"Pricing strategy, phase two" in _get(client)[0].content
    with django_capture_on_commit_callbacks(execute=True):
        engagement.client.name = "Renamed Holdings"
        engagement.client.save()
    assert b"Renamed Holdings" in _get(client)[0].content


def test_a_change_rolled_back_does_not_move_the_version(engagement, django_capture_on_commit_callbacks):
    version = portfolio_versions()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        engagement.title = "Never committed"
        engagement.save()
    assert callbacks and portfolio_versions() == version  # moved only by the after-commit callback


def test_signing_in_does_not_move_the_version(client, manager, django_capture_on_commit_callbacks):
    version = portfolio_versions()
    with django_capture_on_commit_callbacks(execute=True):
        manager.set_password("a-new-long-password")
        manager.save(update_fields=["password"])
        client.force_login(manager)  # saves last_login
    assert portfolio_versions() == version


def test_pages_are_kept_apart_per_manager_and_language(client, manager, engagement):
    other = factories.UserFactory(is_manager=True)
    client.force_login(manager)
    _get(client)
    client.force_login(other)
    assert _get(client)[1] > 3  # built for this manager, not the other one's copy
    assert b"live engagements" in _get(client)[0].content
    response = client.get(reverse(HOME), headers={"Accept-Language": "fr"})
    assert b"missions en cours" in response.content  # the French page, not the cached English one


def test_the_cached_part_holds_nothing_tied_to_the_session(client, manager):
    build_portfolio(5)
    client.force_login(manager)
    response, _ = _get(client, "?state=transactional")
    portfolio = response.context["portfolio"]
    assert "csrfmiddlewaretoken" not in portfolio and "csrf" not in portfolio.lower()
    assert "csrfmiddlewaretoken" in response.content.decode()  # the page around it keeps its own forms
