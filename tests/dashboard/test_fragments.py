"""The flag queue's cards and the portfolio's filter form come from the fragment cache, keyed on
what they show (content_cached): a change to anything they show is on the next visit, however it
was made; the CSRF token in a cached card is always the viewer's own; the snooze date's minimum
follows the calendar."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from clients.models import Client as ClientCompany
from engagements.models import Engagement
from health.models import Flag, FlagEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cards_yet():
    caches["fragments"].clear()


def queue(client) -> str:
    response = client.get(reverse("dashboard:flags"))
    assert response.status_code == 200
    return response.content.decode()


def card(html: str, flag: Flag) -> str:
    start = html.rindex("<article", 0, html.index(f'id="flag-{flag.pk}"'))
    return html[start:html.index("</article>", start)]


def test_cards_show_changes_made_behind_the_applications_back(client, manager, engagement):
    owner = factories.ConsultantFactory(full_name="Olga Owner")
    flag = factories.FlagFactory(engagement=engagement, owner=owner)
    client.force_login(manager)
    first = card(queue(client), flag)
    assert "Olga Owner" in first and "Acknowledge" in first and engagement.title in first
    assert caches["fragments"]._cache, "the cards were stored"

    # Plain UPDATEs and INSERTs: no signal, no version moved, no service called.
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.ACKNOWLEDGED, severity=Flag.Severity.HIGH)
    User.objects.filter(pk=owner.pk).update(full_name="Olga Renamed")
    ClientCompany.objects.filter(pk=engagement.client_id).update(name="Renamed Client Ltd")
    Engagement.objects.filter(pk=engagement.pk).update(title="Renamed engagement")
    FlagEvent.objects.create(flag=flag, created_at=timezone.now(), actor=manager, action=FlagEvent.Action.NOTE,
                             note="Called the sponsor")
    second = card(queue(client), flag)
    assert "Olga Renamed" in second and "Olga Owner" not in second
    assert "Renamed Client Ltd — Renamed engagement" in second
    assert "severity-high" in second and "flag-acknowledged" in second
    assert "Called the sponsor" in second
    assert 'History <small class="muted">(2)</small>' in second  # raised, and the note
    assert "Acknowledge</button>" in first and "Acknowledge</button>" not in second


def test_the_owner_menu_lists_people_added_since(client, manager, engagement):
    flag = factories.FlagFactory(engagement=engagement)
    client.force_login(manager)
    assert "Nadia Newcomer" not in card(queue(client), flag)
    factories.ConsultantFactory(full_name="Nadia Newcomer")
    assert "Nadia Newcomer" in card(queue(client), flag)


def test_the_earliest_snooze_date_follows_the_calendar(client, manager, engagement):
    flag = factories.FlagFactory(engagement=engagement)
    client.force_login(manager)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        assert 'min="2026-03-11"' in card(queue(client), flag)
    with time_machine.travel(dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC), tick=False):
        assert 'min="2026-03-13"' in card(queue(client), flag)


def test_a_cached_card_carries_the_viewers_own_csrf_token(manager, engagement):
    other_manager = factories.ManagerFactory()
    flag = factories.FlagFactory(engagement=engagement)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(manager)
    second.force_login(other_manager)
    queue(first)  # renders and stores the card
    html = card(queue(second), flag)  # the same card, from the cache
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = second.post(reverse("engagements:flag_acknowledge", args=[flag.pk]),
                           {"csrfmiddlewaretoken": token, "next": reverse("dashboard:flags")})
    assert response.status_code == 302  # not 403: the token is valid for this viewer
    flag.refresh_from_db()
    assert flag.status == Flag.Status.ACKNOWLEDGED


def test_the_portfolio_filter_form_lists_leads_added_since_and_keeps_the_query(client, manager, engagement):
    client.force_login(manager)
    assert "Lena Newlead" not in client.get(reverse("dashboard:home")).content.decode()
    newcomer = factories.ConsultantFactory(full_name="Lena Newlead")
    factories.EngagementFactory(lead=newcomer)
    cache.clear()  # the page cache; the form's fragment is keyed on the lead menu, not cleared
    html = client.get(reverse("dashboard:home")).content.decode()
    assert f'<option value="{newcomer.pk}">Lena Newlead</option>' in html
    html = client.get(reverse("dashboard:home"), {"lead": newcomer.pk}).content.decode()
    assert f'<option value="{newcomer.pk}" selected>Lena Newlead</option>' in html


def test_portfolio_rows_show_changes_made_behind_the_applications_back(client, manager, engagement):
    from health.models import EngagementHealth

    EngagementHealth.objects.create(engagement=engagement, as_of=timezone.localdate(), score=81.0,
                                    mode="co_production", state="consultative", live_flags=0)
    client.force_login(manager)
    first = client.get(reverse("dashboard:home")).content.decode()
    assert ">81<" in first and "Consultative" in first
    EngagementHealth.objects.filter(engagement=engagement).update(score=42.0, state="transactional", live_flags=2)
    ClientCompany.objects.filter(pk=engagement.client_id).update(name="Renamed Client Ltd")
    cache.clear()  # the page cache; the rows' fragments are keyed on what they show, not cleared
    second = client.get(reverse("dashboard:home")).content.decode()
    assert ">42<" in second and ">81<" not in second and "Transactional" in second
    assert "Renamed Client Ltd" in second and "2 live flags on" in second
