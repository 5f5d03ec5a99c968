"""The month under way is labelled as such in the trends, whatever day the suite runs."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from engagements.models import Session
from tests import factories

pytestmark = pytest.mark.django_db


@time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC), tick=False)
def test_the_month_under_way_is_marked_so_far_not_plotted_as_a_full_month(client, manager, consultant):
    engagement = factories.EngagementFactory(lead=consultant)
    november = timezone.make_aware(dt.datetime(2026, 11, 10, 10))
    for day in range(6):  # a consultative November, then one KPI review on 2 December
        factories.SessionFactory(engagement=engagement, start=november + dt.timedelta(days=day),
                                 focus=Session.Focus.STRATEGY, duration_minutes=60).consultants.add(consultant)
    factories.SessionFactory(engagement=engagement, start=timezone.make_aware(dt.datetime(2026, 12, 2, 10)),
                             focus=Session.Focus.KPI_REVIEW, duration_minutes=60).consultants.add(consultant)
    client.force_login(manager)
    response = client.get(reverse("dashboard:trends"), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    data = json.loads(content.split('id="trends-data" type="application/json">')[1].split("</script>")[0])
    assert data["share_months"][-1] == "December 2026 (so far)"
    assert data["share_months"][-2] == "November 2026"
    assert data["months"][-1] == "December 2026 (today)"
    assert data["partial_last"] is True
    assert data["share"][-2] == 1.0 and data["share"][-1] == 0.0  # the dip is there, and labelled
    assert "December 2026 is under way: its share counts the sessions up to 4 Dec 2026" in content
    assert 'tabindex="0" role="region" aria-labelledby="share-caption"' in content
