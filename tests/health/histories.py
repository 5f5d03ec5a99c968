"""Builders of realistic engagement histories for the health scenarios.

Every date is relative to ``AS_OF``, a fixed scoring date, so the scenarios read like a story
("weekly strategy sessions for two years, then KPI reviews once the new CMO arrives") and do not
depend on the day the tests run.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from django.utils import timezone

from clients.models import Contact
from engagements.models import Engagement, Milestone, Session, Side
from tests import factories

AS_OF = dt.date(2025, 6, 30)
CONSULTATIVE_MIX = (Session.Focus.STRATEGY, Session.Focus.CO_CREATION, Session.Focus.ADVISORY,
                    Session.Focus.KPI_REVIEW)
BOTH_SIDES = (Side.CONSULTANT, Side.CLIENT)


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


# --- On today's calendar, for the flag lifecycle (snoozes are dated after today) ----------------

def from_today(offset: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)


def quiet_engagement(*, lead) -> Engagement:
    """Planned every 14 days, last met 100 days ago: a cadence_drop holds from today on."""
    engagement = factories.EngagementFactory(lead=lead, start=from_today(-400))
    factories.SessionFactory(engagement=engagement, start=at(from_today(-100)))
    return engagement


def only_flag(engagement: Engagement):
    """The engagement's one flag (fails if there is none or several)."""
    from health.models import Flag

    [flag] = Flag.objects.filter(engagement=engagement)
    return flag


def score_on(engagement: Engagement, offset: int):
    """Score one engagement as of ``offset`` days from today."""
    from health.services import score_engagements

    return score_engagements(engagement_ids=[engagement.pk], as_of=from_today(offset))


def _cycle(value) -> itertools.cycle:
    if isinstance(value, str | bool | int) or value is None:
        return itertools.cycle([value])
    return itertools.cycle(value)


def _days(first: dt.date, last: dt.date, every: int):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=every)


def sessions(engagement: Engagement, *, first: dt.date, last: dt.date, every: int = 7,
             focus: str | Sequence[str] = CONSULTATIVE_MIX, initiated_by: str | Sequence[str] = BOTH_SIDES,
             advice: bool | Sequence[bool] = (True, False), attendees: Sequence[Contact] = (),
             minutes: int = 60) -> list[Session]:
    """One session every ``every`` days, cycling through the given focuses and initiators."""
    focuses, sides, advices = _cycle(focus), _cycle(initiated_by), _cycle(advice)
    return [factories.SessionFactory(engagement=engagement, start=at(day), duration_minutes=minutes,
                                     focus=next(focuses), initiated_by=next(sides), advice_requested=next(advices),
                                     client_attendees=list(attendees))
            for day in _days(first, last, every)]


def milestones(engagement: Engagement, *, first: dt.date, last: dt.date, every: int = 30, lead_days: int = 20,
               proposed_by: str | Sequence[str] = BOTH_SIDES, approved: bool = True,
               comments_by: Sequence[str] = BOTH_SIDES, late_by: int | None = None) -> list[Milestone]:
    """A milestone created every ``every`` days, due ``lead_days`` later, done on time (or late)."""
    sides = _cycle(proposed_by)
    created = []
    for day in _days(first, last, every):
        due = day + dt.timedelta(days=lead_days)
        done = due - dt.timedelta(days=2) if late_by is None else due + dt.timedelta(days=late_by)
        is_done = done <= AS_OF
        milestone = factories.MilestoneFactory(
            engagement=engagement, created_at=at(day), due_date=due, proposed_by=next(sides),
            status=Milestone.Status.DONE if is_done else Milestone.Status.IN_PROGRESS,
            completed_at=at(done, 16) if is_done else None,
            approved_at=at(done, 17) if approved and is_done else None,
        )
        for offset, side in enumerate(comments_by, start=1):
            factories.MilestoneCommentFactory(milestone=milestone, side=side,
                                              created_at=at(day + dt.timedelta(days=offset)))
        created.append(milestone)
    return created


def feedback(engagement: Engagement, *, first: dt.date, last: dt.date, every: int = 20,
             ratings: int | Sequence[int] = (5, 4), side: str = Side.CLIENT) -> None:
    """Pulse answers every ``every`` days, from the client or as consultant self-assessments."""
    if ratings == []:
        return
    values = _cycle(ratings)
    for day in _days(first, last, every):
        if side == Side.CLIENT:
            factories.FeedbackResponseFactory(engagement=engagement, side=side, submitted_at=at(day, 18),
                                              rating=next(values))
        else:
            factories.FeedbackResponseFactory(engagement=engagement, side=side, submitted_at=at(day, 18),
                                              rating=next(values), respondent_contact=None,
                                              respondent_user=engagement.lead)


def executive(engagement: Engagement, name: str, title: str, *, sponsor_since: dt.date | None = None,
              sponsor_until: dt.date | None = None) -> Contact:
    """An executive contact of the engagement's client, optionally sponsor over a period."""
    contact = factories.ContactFactory(client=engagement.client, name=name, title=title,
                                       seniority=Contact.Seniority.EXECUTIVE)
    if sponsor_since is not None:
        factories.SponsorPeriodFactory(contact=contact, start=sponsor_since, end=sponsor_until)
        if sponsor_until is None:
            contact.is_sponsor, contact.sponsor_since = True, sponsor_since
            contact.save(update_fields=["is_sponsor", "sponsor_since"])
    return contact


def co_production(engagement: Engagement, *, first: dt.date, last: dt.date, sponsor: Contact,
                  client_ratings: int | Sequence[int] = (5, 4), self_ratings: int | Sequence[int] = 4,
                  milestones_until: dt.date | None = None) -> None:
    """The healthy target: weekly sessions mostly about strategy, initiative on both sides, the
    sponsor in the room, shared milestones delivered on time, regular feedback."""
    sessions(engagement, first=first, last=last, attendees=[sponsor])
    milestones(engagement, first=first, last=milestones_until or last)
    feedback(engagement, first=first + dt.timedelta(days=10), last=last, ratings=client_ratings)
    feedback(engagement, first=first + dt.timedelta(days=12), last=last, ratings=self_ratings,
             side=Side.CONSULTANT)


def strategy_then_kpi_reviews(engagement: Engagement, *, today: dt.date) -> Engagement:
    """A slide the rules call with confidence, relative to ``today``: fortnightly strategy sessions
    with the client asking our view until 100 days ago, then KPI reviews every ten days for the last
    two months (drift_to_transactional, high). Three KPI reviews after four strategy sessions would
    be too little evidence."""
    for days in range(250, 100, -14):
        factories.SessionFactory(engagement=engagement, start=at(today - dt.timedelta(days=days)),
                                 focus=Session.Focus.STRATEGY, duration_minutes=80, advice_requested=True)
    for days in range(60, 0, -10):
        factories.SessionFactory(engagement=engagement, start=at(today - dt.timedelta(days=days)),
                                 focus=Session.Focus.KPI_REVIEW, duration_minutes=30)
    return engagement
