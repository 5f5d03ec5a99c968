"""A small world for portal tests: Acme (the client user's) and Globex (another client), each with
shared and unshared milestones and sessions, and a pulse."""

from dataclasses import dataclass

import pytest

from engagements.models import Milestone, Session
from tests import factories


@dataclass
class World:
    engagement: object
    awaiting: Milestone          # shared, awaits the client's approval, owned by the client user
    shared: Milestone            # shared, in progress
    unshared: Milestone
    session: Session             # shared
    internal_session: Session    # not shared
    pulse: object
    other_engagement: object
    other_milestone: Milestone
    other_session: Session
    other_pulse: object


@pytest.fixture
def world(engagement, consultant, client_user, other_client_user):
    contact = client_user.contact
    other_contact = other_client_user.contact
    other_engagement = factories.EngagementFactory(client=other_contact.client, title="Globex rollout")
    return World(
        engagement=engagement,
        awaiting=factories.MilestoneFactory(engagement=engagement, title="Target model v2", approval_requested=True,
                                            status=Milestone.Status.IN_PROGRESS, client_owner=contact,
                                            consultant_owner=consultant, phase=Milestone.Phase.REFLECTION),
        shared=factories.MilestoneFactory(engagement=engagement, title="Pilot launch", consultant_owner=consultant,
                                          status=Milestone.Status.IN_PROGRESS),
        unshared=factories.MilestoneFactory(engagement=engagement, title="Internal pricing note",
                                            shared_with_client=False),
        session=factories.SessionFactory(engagement=engagement, shared_with_client=True, notes="SECRET NOTES",
                                         next_steps="Send the draft", sentiment=2),
        internal_session=factories.SessionFactory(engagement=engagement, shared_with_client=False,
                                                  next_steps="Internal follow-up"),
        pulse=factories.PulseRequestFactory(engagement=engagement, contact=contact),
        other_engagement=other_engagement,
        other_milestone=factories.MilestoneFactory(engagement=other_engagement, title="Globex milestone",
                                                   approval_requested=True, client_owner=other_contact),
        other_session=factories.SessionFactory(engagement=other_engagement, shared_with_client=True),
        other_pulse=factories.PulseRequestFactory(engagement=other_engagement, contact=other_contact),
    )
