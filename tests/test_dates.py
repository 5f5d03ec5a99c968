"""One way to write a date per language across a page (config/formats): never "12/04/2026" (which
day is it?) beside "Dec. 4, 2026" beside "4 Dec 2026"."""

import re

import pytest
from django.urls import reverse
from django.utils import formats, translation

from tests import factories

pytestmark = pytest.mark.django_db

# The styles a page must not mix with "4 Dec 2026": numeric dates and the US "Dec. 4" / "December 4".
NUMERIC = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
MONTH_FIRST = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b")


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_short_and_long_formats_are_the_same_in_each_language(language):
    with translation.override(language):
        assert formats.get_format("SHORT_DATE_FORMAT") == formats.get_format("DATE_FORMAT")
        assert formats.get_format("SHORT_DATETIME_FORMAT") == formats.get_format("DATETIME_FORMAT")


@pytest.mark.parametrize(("language", "example"), [("en", re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b")),
                                                   ("fr", re.compile(r"\b\d{1,2} [a-zéû]{3,5}\.? \d{4}\b"))])
def test_the_engagement_page_writes_every_date_one_way(client, consultant, engagement, language, example):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    factories.MilestoneCommentFactory(milestone=milestone, author=consultant)
    factories.SessionFactory(engagement=engagement)
    kpi = factories.KPIFactory(engagement=engagement, name="Cost to serve")
    factories.KPIMeasurementFactory(kpi=kpi)
    factories.HealthSnapshotFactory(engagement=engagement)
    factories.FlagFactory(engagement=engagement)
    client.force_login(consultant)
    client.cookies["django_language"] = language
    response = client.get(reverse("engagements:detail", args=[engagement.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.headers["Content-Language"] == language
    text = _visible_text(response.content.decode())
    assert example.search(text), text[:500]
    assert not NUMERIC.search(text), NUMERIC.search(text).group(0)
    assert not MONTH_FIRST.search(text), MONTH_FIRST.search(text).group(0)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_main_page_of_each_role_writes_no_numeric_or_month_first_date(client, demo, language):
    """The demo portfolio's pages (its dates in flags, trends, the portal, the calendar inbox): no page
    mixes another style in with the language's one."""
    from accounts.models import User
    from engagements.models import Engagement

    brand = Engagement.objects.get(title="Brand positioning")
    pages = {
        "consultant@example.com": [reverse("engagements:home"), reverse("engagements:detail", args=[brand.pk]),
                                   reverse("engagements:session_new"), reverse("portal:staff_home")],
        "manager@example.com": [reverse("dashboard:home"), reverse("dashboard:flags"), reverse("dashboard:trends")],
        "client@example.com": [reverse("portal:home")],
    }
    checked = 0
    for email, urls in pages.items():
        client.force_login(User.objects.get(email=email))
        for url in urls:
            client.cookies["django_language"] = language
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200 and response.headers["Content-Language"] == language, url
            text = _visible_text(response.content.decode())
            assert not NUMERIC.search(text), (url, NUMERIC.search(text).group(0))
            assert not MONTH_FIRST.search(text), (url, MONTH_FIRST.search(text).group(0))
            checked += 1
    assert checked == 8
