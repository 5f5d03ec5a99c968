"""The flag card tells what the health engine did to a flag (woke it, resolved it) from its history
events, in the viewer's language with a date in their format, not from the English note it stores
for the admin and the API."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from health.models import Flag, FlagEvent
from health.selectors import flag_cards
from health.services import flag_assign, flag_resolve, flag_snooze
from tests import factories
from tests.health import histories
from tests.health.histories import at
from tests.health.histories import from_today as day
from tests.health.histories import only_flag as the_flag
from tests.health.histories import score_on as score

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_minimum_episode(settings):
    """The flag is resolved the day after its condition stops (the minimum episode: tests/health/test_rules.py)."""
    settings.HEALTH = {**settings.HEALTH, "MIN_EPISODE_DAYS": 0}

TODAY = timezone.localdate()
WOKEN = "The health engine opened it again on %(date)s: the snooze was over and the condition still held."
AUTO_RESOLVED = "The health engine closed it: the condition no longer held on %(date)s."


@pytest.fixture
def quiet_engagement(consultant):
    return histories.quiet_engagement(lead=consultant)


@pytest.fixture
def woken_flag(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag_snooze(flag=the_flag(quiet_engagement), user=manager, until=day(5), reason="Budget round")
    score(quiet_engagement, 5)
    return the_flag(quiet_engagement)


@pytest.fixture
def auto_resolved_flag(quiet_engagement):
    score(quiet_engagement, 0)
    factories.SessionFactory(engagement=quiet_engagement, start=at(day(1)))
    score(quiet_engagement, 2)
    return the_flag(quiet_engagement)


def in_language(language: str, text: str, day: dt.date) -> str:
    with translation.override(language):
        return gettext(text) % {"date": formats.date_format(day, "DATE_FORMAT")}


def card(flag, user, language: str = "en") -> str:
    request = RequestFactory().get("/")
    request.user = user
    with translation.override(language):
        return render_to_string("workspace/_flag_card.html",
                                {"flag": flag_cards(Flag.objects.filter(pk=flag.pk)).get(), "request": request,
                                 "user_role": user.role})


def reopened_on(flag) -> dt.date:
    return timezone.localdate(FlagEvent.objects.get(flag=flag, action=FlagEvent.Action.REOPENED).created_at)


def test_the_page_in_french_shows_the_wake_up_in_french_with_a_french_date(client, consultant, woken_flag):
    client.force_login(consultant)
    page = client.get(reverse("engagements:detail", args=[woken_flag.engagement_id]),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert 'lang="fr"' in page
    with translation.override("fr"):
        assert str(FlagEvent.Action.REOPENED.label) in page  # "Rouverte"
    assert in_language("fr", WOKEN, reopened_on(woken_flag)) in page
    # Day and month name in French ("1 déc. 2026"), not English ("1 Dec 2026").
    with translation.override("fr"):
        french_date = formats.date_format(reopened_on(woken_flag), "DATE_FORMAT")
    with translation.override("en"):
        english_date = formats.date_format(reopened_on(woken_flag), "DATE_FORMAT")
    assert french_date in page and french_date != english_date and english_date not in page


def test_the_page_in_english_tells_the_wake_up_after_the_snooze(client, consultant, woken_flag):
    client.force_login(consultant)
    page = client.get(reverse("engagements:detail", args=[woken_flag.engagement_id])).content.decode()

    history = page[page.index('class="flag-history"'):]
    assert history.index("Snoozed") < history.index("Reopened")
    assert (f"The health engine opened it again on {formats.date_format(reopened_on(woken_flag), 'DATE_FORMAT')}: "
            "the snooze was over and the condition still held.") in history


def test_the_card_in_french_shows_the_automatic_resolution_and_not_the_english_note(manager, auto_resolved_flag):
    html = card(auto_resolved_flag, manager, "fr")

    with translation.override("fr"):
        assert str(FlagEvent.Action.AUTO_RESOLVED.label) in html  # "Résolue automatiquement"
    assert in_language("fr", AUTO_RESOLVED, day(2)) in html
    assert auto_resolved_flag.resolution_note not in html
    assert day(2).isoformat() not in html


def test_the_card_in_english_dates_the_automatic_resolution_by_the_scoring_date(manager, auto_resolved_flag):
    html = card(auto_resolved_flag, manager)

    ended = formats.date_format(day(2), "DATE_FORMAT")
    assert f"The health engine closed it: the condition no longer held on {ended}." in html
    assert "Resolved automatically:" not in html  # the stored note, English with an ISO date


def test_a_flag_a_person_resolved_still_shows_their_note(quiet_engagement, manager):
    score(quiet_engagement, 0)
    flag = flag_resolve(flag=the_flag(quiet_engagement), user=manager, action_plan=Flag.ActionPlan.REPAIR,
                        note="Monthly steering with the sponsor")
    html = card(flag, manager)
    assert "Repair the relationship:</strong> Monthly steering with the sponsor" in html


def test_a_flag_resolved_before_the_engine_kept_a_history_still_shows_its_note(engagement, manager):
    flag = factories.FlagFactory(engagement=engagement, status=Flag.Status.RESOLVED, resolved_at=timezone.now(),
                                 episode_ended_on=TODAY,
                                 resolution_note="Resolved automatically: the condition no longer held on 2026-11-27.")
    assert "the condition no longer held on 2026-11-27." in card(flag, manager)


def test_a_snooze_and_an_assignment_read_in_the_viewers_language(client, consultant, manager, engagement):
    flag = factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    with translation.override("en"):  # the manager acts in English…
        flag_snooze(flag=flag, user=manager, until=day(10), reason="Budget round in January")
        flag_assign(flag=flag, owner=None, user=manager)
    client.force_login(consultant)
    url = reverse("engagements:detail", args=[engagement.pk])

    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()  # …a colleague reads in French
    with translation.override("fr"):
        until = formats.date_format(day(10), "DATE_FORMAT")
    assert f"Jusqu’au {until} : Budget round in January" in french
    assert "Confiée à personne" in french and "Nobody" not in french

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    with translation.override("en"):
        until = formats.date_format(day(10), "DATE_FORMAT")
    assert f"Until {until}: Budget round in January" in english and "Given to nobody" in english
