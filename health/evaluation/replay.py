"""Write a portfolio's stories through the real services, day by day, and run the nightly scoring.

Every row goes in through the function a page or the API would call (``session_log``,
``milestone_create``, ``feedback_record``, ``contact_set_sponsor``, ``kpi_measurement_record``,
…), with the clock set to the moment the story says it happened: the services stamp rows with
``timezone.now()`` (a milestone's creation, a comment, an approval, a completion), so the clock
is what makes a replayed history look like a lived one. Only the users are made with the model
manager (``User.objects.create_user``, as the demo does: there is no service for that).

After each replayed day from the first night on, ``health.services.score_portfolio(as_of=day)``
runs: the nightly job, with the real selectors and rules. The per-write rescoring is switched off
while replaying (every save would otherwise score the engagement "as of now" on top of the
nightly run), and so are the e-mails about new high flags.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from clients.services import client_create, contact_create, contact_set_sponsor
from engagements import services as engagement_services
from engagements.models import KPIMeasurement, Milestone, MilestoneComment, Session
from feedback.models import FeedbackResponse
from feedback.services import feedback_record
from health import notifications, scoring
from health import services as health_services
from health.evaluation.metrics import Final, FlagRecord
from health.evaluation.stories import Event, Story
from health.models import EngagementHealth, Flag, HealthSnapshot


class ReplayError(RuntimeError):
    """The replay did not go as the harness expects (a write path scored on its own, …)."""


@dataclass
class Outcome:
    """What the engine stored, keyed by story, and how the run went."""

    first_night: dt.date
    last_night: dt.date
    flags: list[FlagRecord]
    finals: dict[str, Final]
    watch: dict[str, list[dt.date]] | None   # dates with a watch level, when the engine has one
    breaks_marked: bool
    algorithm_version: int
    counts: dict[str, int]
    seconds: float
    engagement_ids: dict[str, int] = field(default_factory=dict)   # story key -> engagement id


class _Clock:
    """Stands in for ``django.utils.timezone.now`` while the history is written."""

    def __init__(self) -> None:
        self.at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, day: dt.date, minute: int) -> None:
        local = dt.datetime.combine(day, dt.time.min) + dt.timedelta(minutes=minute)
        self.at = timezone.make_aware(local).astimezone(dt.UTC)


def _no_rescore(**_kwargs) -> None:
    """Per-write rescoring is off during a replay: the nightly run scores each replayed day."""


@contextlib.contextmanager
def replay_context(clock: _Clock) -> Iterator[None]:
    """The clock in place, per-write rescoring and flag e-mails off, for the length of a replay.

    ``request_rescore`` is replaced wherever a module imported it by name (``health.services`` itself,
    which the receivers of the domain's signals call), so no write path escapes; ``replay`` also
    checks afterwards that no snapshot was written for a date it did not replay.
    """
    original = health_services.request_rescore
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(timezone, "now", clock))
        for module in list(sys.modules.values()):
            if getattr(module, "request_rescore", None) is original:
                stack.enter_context(mock.patch.object(module, "request_rescore", _no_rescore))
        stack.enter_context(mock.patch.object(notifications, "queue_high_flag_notices", lambda **_kwargs: None))
        yield


def _planned_break_service() -> Callable | None:
    """``engagements.services.planned_break_create`` once the engine has it; None before."""
    return getattr(engagement_services, "planned_break_create", None)


class _Engagement:
    """One story's rows: what its later events refer to."""

    def __init__(self, story: Story, lead: User, clock: _Clock):
        label = story.label
        clock.set(min(label.start, story.first_sponsor_since) - dt.timedelta(days=1), 9 * 60)
        self.client = client_create(name=f"Client of {label.key}", industry="Evaluation")
        self.contacts, self.users = {}, {}
        for key, (name, seniority) in story.contacts.items():
            email = f"{key}.{label.key}@client.example"
            contact = contact_create(client=self.client, name=name, email=email, seniority=seniority,
                                     is_sponsor=key == "exec0",
                                     sponsor_since=story.first_sponsor_since if key == "exec0" else None)
            user = User.objects.create_user(email=email, full_name=name)
            contact.user = user
            contact.save(update_fields=["user"])
            self.contacts[key], self.users[key] = contact, user
        self.lead = lead
        self.engagement = engagement_services.engagement_create(
            client=self.client, title=label.key, lead=lead, start=label.start,
            planned_cadence_days=label.planned_cadence_days)
        self.milestones: dict[str, Milestone] = {}
        self.kpis = {}


def _apply(event: Event, e: _Engagement, clock: _Clock, planned_break_create: Callable | None) -> None:
    d, now = event.data, clock()
    kind = event.kind
    if kind == "session":
        engagement_services.session_log(
            engagement=e.engagement, logged_by=e.lead, start=now, duration_minutes=d["minutes"], focus=d["focus"],
            channel=d["channel"], initiated_by=d["initiated_by"], advice_requested=d["advice"],
            sentiment=d["sentiment"], client_attendees=[e.contacts[k] for k in d["attendees"]],
            kpis_discussed=[e.kpis[k] for k in d["kpis"]])
    elif kind == "milestone":
        title = f"Milestone {d['key']}"
        if d["by_client"]:
            e.milestones[d["key"]] = engagement_services.milestone_propose(
                engagement=e.engagement, proposed_by=e.users["mgr"], title=title, due_date=d["due"])
        else:
            e.milestones[d["key"]] = engagement_services.milestone_create(
                engagement=e.engagement, created_by=e.lead, title=title, due_date=d["due"], approval_requested=True)
    elif kind == "milestone_agree":
        milestone = e.milestones[d["key"]]
        if milestone.status == Milestone.Status.PROPOSED:
            engagement_services.milestone_set_status(milestone=milestone, status=Milestone.Status.AGREED)
    elif kind == "approve":
        engagement_services.milestone_approve(milestone=e.milestones[d["key"]], approved_by=e.users["mgr"])
    elif kind == "comment":
        author = e.users["staff"] if d["side"] == "client" else e.lead
        engagement_services.milestone_comment_add(milestone=e.milestones[d["key"]], author=author,
                                                  text="Noted, thanks." if d["side"] == "client" else "Draft shared.")
    elif kind == "milestone_done":
        milestone = e.milestones[d["key"]]
        if milestone.status not in (Milestone.Status.DONE, Milestone.Status.DROPPED):
            engagement_services.milestone_set_status(milestone=milestone, status=Milestone.Status.DONE)
    elif kind == "feedback":
        if d["side"] == "client":
            feedback_record(engagement=e.engagement, rating=d["rating"], side="client",
                            respondent_contact=e.contacts[d["contact"]], submitted_at=now)
        else:
            feedback_record(engagement=e.engagement, rating=d["rating"], side="consultant", respondent_user=e.lead,
                            submitted_at=now)
    elif kind == "kpi":
        e.kpis[d["key"]] = engagement_services.kpi_create(
            engagement=e.engagement, name=d["name"], unit=d["unit"], target=Decimal(str(d["target"])),
            direction=d["direction"])
    elif kind == "kpi_value":
        engagement_services.kpi_measurement_record(kpi=e.kpis[d["key"]], date=event.day,
                                                   value=Decimal(str(d["value"])), recorded_by=e.lead)
    elif kind == "sponsor":
        contact_set_sponsor(contact=e.contacts[d["contact"]], since=event.day)
    elif kind == "planned_break":
        if planned_break_create is not None:
            planned_break_create(engagement=e.engagement, user=e.lead, starts_on=d["starts_on"],
                                 ends_on=d["ends_on"], reason=d["reason"], note="Marked by the evaluation story.")
    else:
        raise ReplayError(f"Unknown event {kind!r}.")


def days_to_replay(stories: Sequence[Story], last_night: dt.date) -> int:
    """How many days the replay walks through (from the oldest event to the last night)."""
    first = min(min(s.label.start, s.first_sponsor_since) for s in stories)
    return (last_night - first).days + 1


def replay(stories: Sequence[Story], *, first_night: dt.date, last_night: dt.date,
           on_day: Callable[[dt.date], None] | None = None) -> Outcome:
    """Write every story day by day through the services; score every night from ``first_night``.

    Runs in the current database: the command gives it a throwaway one, the tests their test
    database. ``on_day`` is told each day walked (for a progress bar).
    """
    started = time.perf_counter()
    clock = _Clock()
    planned_break_create = _planned_break_service()
    with replay_context(clock):
        leads = [User.objects.create_user(email=f"consultant{n}@firm.example", full_name=f"Consultant {n}",
                                          is_consultant=True) for n in range(4)]
        rows = {story.key: _Engagement(story, leads[i % len(leads)], clock) for i, story in enumerate(stories)}
        timeline = sorted(((event, story.key) for story in stories for event in story.events),
                          key=lambda item: (item[0].sort_key, item[1]))
        day = min(min(s.label.start, s.first_sponsor_since) for s in stories)
        position = 0
        while day <= last_night:
            with transaction.atomic():
                while position < len(timeline) and timeline[position][0].day == day:
                    event, key = timeline[position]
                    clock.set(day, event.minute)
                    _apply(event, rows[key], clock, planned_break_create)
                    position += 1
            if day >= first_night:
                clock.set(day, 23 * 60 + 30)
                health_services.score_portfolio(as_of=day)
            if on_day:
                on_day(day)
            day += dt.timedelta(days=1)
        if position != len(timeline):
            raise ReplayError("Some events are dated after the last night.")
    ids = {key: row.engagement.pk for key, row in rows.items()}
    return _outcome(ids, first_night, last_night, planned_break_create is not None, time.perf_counter() - started)


def _outcome(ids: dict[str, int], first_night: dt.date, last_night: dt.date, breaks_marked: bool,
             seconds: float) -> Outcome:
    key_of = {pk: key for key, pk in ids.items()}
    stray = HealthSnapshot.objects.filter(engagement_id__in=ids.values()).exclude(
        date__gte=first_night, date__lte=last_night).count()
    if stray:
        raise ReplayError(f"{stray} snapshots are dated outside the replayed nights: a write path scored on its own.")
    rows = (Flag.objects.filter(engagement_id__in=ids.values()).order_by("raised_on", "id")
            .values_list("engagement_id", "kind", "raised_on", "episode_ended_on", "status"))
    flags = [FlagRecord(key_of[pk], kind, raised_on, ended, status) for pk, kind, raised_on, ended, status in rows]
    finals = {key_of[row.engagement_id]: Final(mode=row.mode, state=row.state, as_of=row.as_of)
              for row in EngagementHealth.objects.filter(engagement_id__in=ids.values())}
    watch = None
    if any(f.name == "watch" for f in HealthSnapshot._meta.get_fields()):
        watch = {}
        for pk, date, level in (HealthSnapshot.objects.filter(engagement_id__in=ids.values())
                                .order_by("date").values_list("engagement_id", "date", "watch")):
            if level:
                watch.setdefault(key_of[pk], []).append(date)
    pks = list(ids.values())
    counts = {"snapshots": HealthSnapshot.objects.filter(engagement_id__in=pks).count(),
              "sessions": Session.objects.filter(engagement_id__in=pks).count(),
              "milestones": Milestone.objects.filter(engagement_id__in=pks).count(),
              "comments": MilestoneComment.objects.filter(milestone__engagement_id__in=pks).count(),
              "feedback": FeedbackResponse.objects.filter(engagement_id__in=pks).count(),
              "KPI values": KPIMeasurement.objects.filter(kpi__engagement_id__in=pks).count()}
    return Outcome(first_night=first_night, last_night=last_night, flags=flags, finals=finals, watch=watch,
                   breaks_marked=breaks_marked, algorithm_version=scoring.ALGORITHM_VERSION, counts=counts,
                   seconds=seconds, engagement_ids=ids)

