"""Fixtures for the API tests: an API client per persona and one engagement's worth of data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@dataclass
class World:
    """One engagement (Acme, staffed by ``consultant``) with one of everything hanging off it."""

    engagement: object
    sponsor: object
    shared_session: object
    private_session: object
    milestone: object
    private_milestone: object
    comment: object
    kpi: object
    measurement: object
    pulse: object
    feedback: object
    consultant_token: object
    snapshot: object
    flag: object


@pytest.fixture
def world(engagement, consultant, client_user, other_client_user, other_consultant, manager):
    contact = client_user.contact
    sponsor = factories.ContactFactory(client=engagement.client, name="Sam Sponsor", is_sponsor=True,
                                       sponsor_since=dt.date(2024, 1, 1))
    shared_session = factories.SessionFactory(engagement=engagement, shared_with_client=True, notes="Private notes",
                                              next_steps="Send the plan", sentiment=4)
    private_session = factories.SessionFactory(engagement=engagement, shared_with_client=False)
    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True, approval_requested=True)
    private_milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=False)
    comment = factories.MilestoneCommentFactory(milestone=milestone, author=consultant)
    kpi = factories.KPIFactory(engagement=engagement, name="Conversion")
    measurement = factories.KPIMeasurementFactory(kpi=kpi)
    pulse = factories.PulseRequestFactory(engagement=engagement, contact=contact)
    feedback = factories.FeedbackResponseFactory(engagement=engagement, respondent_contact=contact,
                                                 submitted_at=timezone.now() - dt.timedelta(days=10))
    token, _key = ApiToken.objects.issue(user=consultant, name="CRM")
    snapshot = factories.HealthSnapshotFactory(engagement=engagement)
    flag = factories.FlagFactory(engagement=engagement)
    return World(engagement=engagement, sponsor=sponsor, shared_session=shared_session,
                 private_session=private_session, milestone=milestone, private_milestone=private_milestone,
                 comment=comment, kpi=kpi, measurement=measurement, pulse=pulse, feedback=feedback,
                 consultant_token=token, snapshot=snapshot, flag=flag)
