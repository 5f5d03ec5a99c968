"""Every list endpoint runs a fixed number of queries, however many rows its page holds.

Each endpoint is called with 2 rows and with 25 rows of its resource, for a manager (everything)
and for a client user (the scoped, summary view); the pinned maximum must hold for both sizes.
Authentication is forced, so the counts are the endpoint's own.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.api.conftest import client_for


def _populate(kind: str, engagement, client_user, consultant, n: int):
    contact = client_user.contact
    for i in range(n):
        if kind == "clients":
            e = factories.EngagementFactory(lead=consultant)
            factories.ContactFactory(client=e.client)
        elif kind == "contacts":
            factories.ContactFactory(client=engagement.client)
        elif kind == "engagements":
            factories.EngagementFactory(client=engagement.client, lead=consultant,
                                        team=[factories.ConsultantFactory()])
        elif kind == "sessions":
            session = factories.SessionFactory(engagement=engagement, shared_with_client=True,
                                               client_attendees=[contact])
            session.consultants.add(consultant)
            session.kpis_discussed.add(factories.KPIFactory(engagement=engagement))
        elif kind == "milestones":
            factories.MilestoneFactory(engagement=engagement, client_owner=contact, consultant_owner=consultant)
        elif kind == "comments":
            factories.MilestoneCommentFactory(milestone=engagement.milestones.get(), author=consultant)
        elif kind == "kpis":
            factories.KPIFactory(engagement=engagement)
        elif kind == "kpi-measurements":
            factories.KPIMeasurementFactory(kpi=engagement.kpis.get(), date=timezone.localdate() - dt.timedelta(days=i))
        elif kind == "feedback-responses":
            factories.FeedbackResponseFactory(engagement=engagement, respondent_contact=contact)
        elif kind == "pulses":
            factories.PulseRequestFactory(engagement=engagement, contact=contact)
        elif kind == "planned-breaks":
            start = dt.date(2026, 1, 1) + dt.timedelta(days=10 * i)
            factories.PlannedBreakFactory(engagement=engagement, starts_on=start, ends_on=start + dt.timedelta(days=5),
                                          created_by=consultant)
        elif kind == "health-snapshots":
            factories.HealthSnapshotFactory(engagement=engagement, date=timezone.localdate() - dt.timedelta(days=i))
        elif kind == "flags":
            factories.FlagFactory(engagement=engagement, status="resolved", resolved_at=timezone.now())
        elif kind == "tokens":
            from api.models import ApiToken

            ApiToken.objects.issue(user=client_user)
            ApiToken.objects.issue(user=consultant)


# kind → (URL name, max queries for a manager, max queries for a client user)
LIST_ENDPOINTS = {
    "tokens": ("api:token-list", 2, 3),
    "clients": ("api:client-list", 2, 3),
    "contacts": ("api:contact-list", 2, 3),
    "engagements": ("api:engagement-list", 3, 3),  # + the team of each engagement, in one query
    "sessions": ("api:session-list", 5, 3),  # + consultants, client attendees, KPIs discussed
    "milestones": ("api:milestone-list", 2, 3),
    "comments": ("api:milestone-comment-list", 3, 4),  # the milestone first, then its thread
    "kpis": ("api:kpi-list", 2, 3),
    "kpi-measurements": ("api:kpi-measurement-list", 2, 3),
    "feedback-responses": ("api:feedback-response-list", 2, 3),
    "pulses": ("api:pulse-list", 2, 3),
    "planned-breaks": ("api:planned-break-list", 2, 2),
    "health-snapshots": ("api:health-snapshot-list", 2, 2),
    "flags": ("api:flag-list", 2, 2),
}


@pytest.mark.parametrize("rows", [2, 25])
@pytest.mark.parametrize("kind", list(LIST_ENDPOINTS))
def test_list_query_count_does_not_grow_with_rows(kind, rows, engagement, client_user, consultant, manager,
                                                  django_assert_max_num_queries):
    if kind == "comments":
        factories.MilestoneFactory(engagement=engagement)
    if kind == "kpi-measurements":
        factories.KPIFactory(engagement=engagement)
    _populate(kind, engagement, client_user, consultant, rows)
    name, manager_max, client_max = LIST_ENDPOINTS[kind]
    kwargs = {"milestone_pk": engagement.milestones.get().pk} if kind == "comments" else None
    url = reverse(name, kwargs=kwargs)

    for user, maximum in ((manager, manager_max), (client_user, client_max)):
        user = type(user).objects.get(pk=user.pk)  # a fresh instance: no cached contact
        api = client_for(user)
        with django_assert_max_num_queries(maximum):
            response = api.get(url, {"page_size": 50})
        assert response.status_code == 200
    if kind not in ("health-snapshots", "flags", "planned-breaks"):  # never shown to clients
        assert response.json()["count"] >= (1 if kind in ("clients", "tokens") else rows)
