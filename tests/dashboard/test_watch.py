"""The watch level (early signs below a flag) on the manager's pages: a badge in the portfolio table,
an "on watch" filter, a summary tile that opens the filtered portfolio, and a short list above the
flag queue; all read from the engagements' latest figures, with a fixed number of queries."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from health import evidence
from health.models import EngagementHealth
from health.services import engagement_health_refresh
from tests import factories
from tests.dashboard.conftest import TODAY, build_portfolio
from tests.evidence_samples import WATCH_ITEM

pytestmark = pytest.mark.django_db


def put_on_watch(engagement, items=None):
    """Give an engagement stored figures with early signs, as a scoring run would."""
    items = items if items is not None else [WATCH_ITEM]
    if not EngagementHealth.objects.filter(engagement=engagement).exists():
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY)
        engagement_health_refresh(engagement_ids=[engagement.pk])
    EngagementHealth.objects.filter(engagement=engagement).update(watch=items, watch_count=len(items))


@pytest.fixture
def watched(consultant):
    engagement = factories.EngagementFactory(lead=consultant, title="Brand positioning", client__name="Helios")
    put_on_watch(engagement)
    return engagement


@pytest.fixture
def calm(consultant):
    engagement = factories.EngagementFactory(lead=consultant, title="Omnichannel strategy", client__name="Atlas")
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY)
    engagement_health_refresh(engagement_ids=[engagement.pk])
    return engagement


def test_the_table_badges_engagements_on_watch(client, manager, watched, calm):
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"))
    rows = {row.title: row for row in response.context["page"].object_list}
    assert (rows["Brand positioning"].watch_count, rows["Omnichannel strategy"].watch_count) == (1, 0)
    content = response.content.decode()
    assert content.count('class="badge badge-watch"') == 1
    assert f'href="/engagements/{watched.pk}/#watch" class="badge badge-watch"' in content


def test_the_filter_keeps_only_engagements_on_watch(client, manager, watched, calm):
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"), {"watch": "1"})
    assert [row.title for row in response.context["page"].object_list] == ["Brand positioning"]
    # "Any" leaves both in.
    both = {row.title for row in client.get(reverse("dashboard:home"), {"watch": ""}).context["page"].object_list}
    assert both == {"Brand positioning", "Omnichannel strategy"}


def test_the_summary_tile_counts_them_and_links_to_the_filtered_portfolio(client, manager, watched, calm):
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"))
    assert response.context["summary"].on_watch == 1
    content = response.content.decode()
    tile = content[content.index('class="dash-watch"'):]
    tile = tile[:tile.index("</article>")]
    assert 'href="/dashboard/?watch=1#portfolio"' in tile and ">1<" in tile and "on watch" in tile


def test_the_export_counts_early_signs_and_follows_the_filter(client, manager, watched, calm):
    import csv
    import io

    client.force_login(manager)
    response = client.get(reverse("dashboard:export"), {"watch": "1"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["Engagement"], row["Early signs (on watch)"]) for row in rows] == [("Brand positioning", "1")]


def test_the_flag_queue_lists_engagements_on_watch_with_their_sign_in_words(client, manager, watched, calm):
    client.force_login(manager)
    content = client.get(reverse("dashboard:flags")).content.decode()
    part = content[content.index('class="watch-queue"'):]
    part = part[:part.index("</section>")]
    assert "Helios — Brand positioning" in part and "Atlas" not in part
    assert evidence.watch_summary(WATCH_ITEM) in part
    assert "1 engagement with early signs, below a flag" in part


def test_the_closed_flags_view_leaves_the_watch_list_out(client, manager, watched):
    client.force_login(manager)
    assert 'class="watch-queue"' not in client.get(reverse("dashboard:flags"), {"status": "closed"}).content.decode()


def test_a_consultants_engagement_list_only_counts_what_the_manager_may_see(manager, watched):
    from dashboard.selectors import engagements_on_watch

    rows, total = engagements_on_watch(user=manager)
    assert [r.engagement_id for r in rows] == [watched.pk] and total == 1


def test_the_watch_list_is_short_and_says_how_many_in_all(client, manager, consultant):
    for n in range(11):
        put_on_watch(factories.EngagementFactory(lead=consultant, title=f"Watched {n:02d}"),
                     [WATCH_ITEM] * (1 + n % 2))
    client.force_login(manager)
    content = client.get(reverse("dashboard:flags")).content.decode()
    start = content.index('class="watch-queue"')
    part = content[start:content.index("</section>", start)]
    assert part.count("<li>") == 8
    assert "11 engagements with early signs, below a flag" in part
    assert 'href="/dashboard/?watch=1#portfolio">All 11 engagements on watch' in part
    assert "(and 1 more sign)" in part


@pytest.mark.parametrize("name", ["dashboard:home", "dashboard:flags"])
def test_pages_with_many_engagements_on_watch_cost_no_more_queries(client, manager, name):
    client.force_login(manager)
    counts = []
    for size, prefix in ((10, "A"), (60, "B")):
        for engagement in build_portfolio(size, prefix=prefix):
            put_on_watch(engagement)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_french_pages_say_it_in_french(client, manager, watched):
    manager.language = "fr"
    manager.save()
    client.force_login(manager)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "Sous surveillance" in home and "sous surveillance (premiers signes)" in home
    queue = client.get(reverse("dashboard:flags")).content.decode()
    from django.utils import translation

    with translation.override("fr"):
        assert evidence.watch_summary(WATCH_ITEM) in queue
