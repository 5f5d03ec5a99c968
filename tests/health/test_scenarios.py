"""One scenario per idea the product encodes (docs/architecture.md), each a realistic history scored on two dates.

Each asserts the live flags, the mode, the state and which way the score moved between a
quarter-and-a-bit ago (``EARLIER``) and ``AS_OF``.
"""

import datetime as dt

import pytest

from engagements.models import Milestone, Session, Side
from health.models import Flag, HealthSnapshot, Mode, State
from health.services import score_engagements
from tests import factories
from tests.health import histories as h
from tests.health.histories import AS_OF, ago

EARLIER = ago(120)

pytestmark = pytest.mark.django_db


def score_both(engagement):
    """Score the earlier date, then AS_OF (in date order, as the nightly runs would have)."""
    score_engagements(engagement_ids=[engagement.pk], as_of=EARLIER)
    score_engagements(engagement_ids=[engagement.pk], as_of=AS_OF)
    return (HealthSnapshot.objects.get(engagement=engagement, date=EARLIER),
            HealthSnapshot.objects.get(engagement=engagement, date=AS_OF))


def live_kinds(engagement):
    return set(Flag.objects.filter(engagement=engagement, status__in=Flag.LIVE_STATUSES)
               .values_list("kind", flat=True))


def test_new_cmo_turns_a_consultative_relationship_into_kpi_reviews():
    engagement = factories.EngagementFactory(start=ago(730), title="Brand strategy")
    old_sponsor = h.executive(engagement, "Claire Dubois", "Chief Marketing Officer",
                              sponsor_since=ago(800), sponsor_until=ago(76))
    h.co_production(engagement, first=ago(730), last=ago(80), sponsor=old_sponsor)
    new_cmo = h.executive(engagement, "Victor Hale", "Chief Marketing Officer", sponsor_since=ago(75))
    # The new CMO audits suppliers: weekly KPI reviews and reports, nobody asks what we think.
    h.sessions(engagement, first=ago(73), last=AS_OF, focus=[Session.Focus.KPI_REVIEW, Session.Focus.REPORTING],
               advice=False, attendees=[new_cmo])
    h.feedback(engagement, first=ago(70), last=AS_OF, ratings=4)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.DRIFT_TO_TRANSACTIONAL, Flag.Kind.SPONSOR_CHANGE}
    assert (before.state, now.state) == (State.CONSULTATIVE, State.TRANSACTIONAL)
    assert now.mode == Mode.CO_PRODUCTION
    assert now.score < before.score - 10
    assert now.advice_rate < 0.2 < before.advice_rate
    drift = Flag.objects.get(engagement=engagement, kind=Flag.Kind.DRIFT_TO_TRANSACTIONAL)
    assert drift.severity == Flag.Severity.HIGH
    evidence = drift.evidence
    assert evidence["v"] == 2
    assert evidence["before"]["consultative_share"] > 0.7
    assert evidence["recent"]["consultative_share"] < 0.25
    assert evidence["recent"]["readouts"] == evidence["recent"]["sessions"]
    assert evidence["score"] >= evidence["raise_at"]
    assert evidence["sponsor_change"]["new_sponsor"]["name"] == "Victor Hale"
    assert {part["signal"] for part in evidence["parts"]} >= {"readouts", "mislabelled", "advice", "sponsor_change"}
    assert evidence["window"] == [ago(89).isoformat(), AS_OF.isoformat()]
    change = Flag.objects.get(engagement=engagement, kind=Flag.Kind.SPONSOR_CHANGE).evidence["changes"]
    assert change == [{"on": ago(75).isoformat(), "previous_sponsor": {"id": old_sponsor.pk, "name": "Claire Dubois"},
                       "new_sponsor": {"id": new_cmo.pk, "name": "Victor Hale"}}]


def test_healthy_co_production_raises_nothing():
    engagement = factories.EngagementFactory(start=ago(420))
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(420))
    h.co_production(engagement, first=ago(420), last=ago(2), sponsor=sponsor)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == set()
    assert Flag.objects.count() == 0
    assert (now.mode, now.state) == (Mode.CO_PRODUCTION, State.CONSULTATIVE)
    assert now.score >= 85
    assert abs(now.score - before.score) < 3
    assert now.balance == pytest.approx(0.5, abs=0.1)


def test_expert_led_engagement_is_one_sided():
    engagement = factories.EngagementFactory(start=ago(365))
    staff = factories.ContactFactory(client=engagement.client, name="Junior analyst")
    # We own the problem: we call every meeting, propose every milestone, deliver on our dates;
    # the client listens and never comments or approves.
    h.sessions(engagement, first=ago(365), last=ago(3), focus=[Session.Focus.STRATEGY, Session.Focus.POSITIONING],
               initiated_by=Side.CONSULTANT, advice=False, attendees=[staff])
    h.milestones(engagement, first=ago(365), last=ago(30), proposed_by=Side.CONSULTANT, approved=False,
                 comments_by=[Side.CONSULTANT])

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.ONE_SIDED}
    assert (now.mode, now.state) == (Mode.EXPERT_LED, State.CONSULTATIVE)
    assert now.balance == 0
    assert now.components["balance"]["value"] == 0
    assert now.score < 70
    assert abs(now.score - before.score) < 3
    evidence = Flag.objects.get(engagement=engagement).evidence
    assert evidence["mode"] == Mode.EXPERT_LED
    assert evidence["client_events"] == 0 and evidence["events"] >= 5


def test_client_led_engagement_is_one_sided_and_transactional():
    engagement = factories.EngagementFactory(start=ago(365))
    buyer = factories.ContactFactory(client=engagement.client, name="Procurement lead")
    # The client writes the spec and calls us in to execute it; nobody asks for our view.
    h.sessions(engagement, first=ago(365), last=ago(3), focus=[Session.Focus.OPERATIONAL, Session.Focus.REPORTING],
               initiated_by=Side.CLIENT, advice=False, attendees=[buyer])
    h.milestones(engagement, first=ago(365), last=ago(30), proposed_by=Side.CLIENT, comments_by=[Side.CLIENT])

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.ONE_SIDED}
    assert (now.mode, now.state) == (Mode.CLIENT_LED, State.TRANSACTIONAL)
    assert now.advice_rate == 0
    assert now.score < 40
    assert abs(now.score - before.score) < 3
    assert Flag.objects.get(engagement=engagement).evidence["mode"] == Mode.CLIENT_LED


def test_cadence_drop_after_weeks_without_a_session():
    engagement = factories.EngagementFactory(start=ago(400), planned_cadence_days=7)
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(400))
    h.co_production(engagement, first=ago(400), last=ago(45), sponsor=sponsor)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.CADENCE_DROP}
    assert (now.mode, now.state) == (Mode.CO_PRODUCTION, State.CONSULTATIVE)
    assert now.score < before.score - 5
    assert now.days_since_last_session >= 45
    evidence = Flag.objects.get(engagement=engagement).evidence
    assert evidence["days_without_session"] == now.days_since_last_session
    assert evidence["planned_cadence_days"] == 7
    assert "gap" in evidence["reasons"]


def test_feedback_decline():
    engagement = factories.EngagementFactory(start=ago(400))
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(400))
    h.co_production(engagement, first=ago(400), last=ago(2), sponsor=sponsor, client_ratings=[], self_ratings=4)
    h.feedback(engagement, first=ago(400), last=ago(95), ratings=[5, 4])
    h.feedback(engagement, first=ago(85), last=ago(2), ratings=3)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.FEEDBACK_DECLINE}
    assert (now.mode, now.state) == (Mode.CO_PRODUCTION, State.CONSULTATIVE)
    assert now.score < before.score - 3
    evidence = Flag.objects.get(engagement=engagement).evidence
    assert evidence["mean_rating_window"] == 3.0
    assert evidence["mean_rating_baseline"] >= 4.4
    assert evidence["reasons"] == ["decline"]


def test_perception_gap_between_consultant_and_client():
    engagement = factories.EngagementFactory(start=ago(400))
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(400))
    # We think it is going brilliantly; the client has been lukewarm all along.
    h.co_production(engagement, first=ago(400), last=ago(2), sponsor=sponsor, client_ratings=3, self_ratings=5)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.PERCEPTION_GAP}
    assert (now.mode, now.state) == (Mode.CO_PRODUCTION, State.CONSULTATIVE)
    assert now.perception_gap == 2.0
    assert abs(now.score - before.score) < 3
    flag = Flag.objects.get(engagement=engagement)
    assert flag.severity == Flag.Severity.LOW
    assert (flag.evidence["consultant_rating"], flag.evidence["client_rating"]) == (5.0, 3.0)


def test_milestone_slippage():
    engagement = factories.EngagementFactory(start=ago(400))
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(400))
    h.co_production(engagement, first=ago(400), last=ago(2), sponsor=sponsor, milestones_until=ago(130))
    # This quarter, three of the four milestones due slipped: two delivered late, one still open.
    h.milestones(engagement, first=ago(100), last=ago(100), lead_days=20)
    h.milestones(engagement, first=ago(90), last=ago(60), lead_days=20, late_by=12)
    open_one = factories.MilestoneFactory(engagement=engagement, created_at=h.at(ago(50)), due_date=ago(20),
                                          status=Milestone.Status.IN_PROGRESS, proposed_by=Side.CLIENT)

    before, now = score_both(engagement)

    assert live_kinds(engagement) == {Flag.Kind.MILESTONE_SLIPPAGE}
    assert (now.mode, now.state) == (Mode.CO_PRODUCTION, State.CONSULTATIVE)
    assert now.delivery == 0.25
    assert now.score < before.score - 5
    evidence = Flag.objects.get(engagement=engagement).evidence
    assert (evidence["due"], evidence["late"], evidence["on_time"]) == (4, 3, 1)
    assert open_one.due_date < AS_OF


def test_scoring_as_of_a_past_date_ignores_later_rows():
    engagement = factories.EngagementFactory(start=ago(400))
    sponsor = h.executive(engagement, "Ana Ruiz", "COO", sponsor_since=ago(400))
    h.co_production(engagement, first=ago(400), last=ago(2), sponsor=sponsor)
    score_engagements(engagement_ids=[engagement.pk], as_of=EARLIER)
    first = HealthSnapshot.objects.get(engagement=engagement, date=EARLIER)

    # Everything after EARLIER is rewritten into a disaster; EARLIER's snapshot must not move.
    Session.objects.filter(engagement=engagement, start__date__gt=EARLIER).update(focus=Session.Focus.ADMIN)
    h.feedback(engagement, first=EARLIER + dt.timedelta(days=1), last=AS_OF, ratings=1)
    score_engagements(engagement_ids=[engagement.pk], as_of=EARLIER)

    again = HealthSnapshot.objects.get(engagement=engagement, date=EARLIER)
    assert (again.score, again.depth, again.client_rating) == (first.score, first.depth, first.client_rating)
