"""The relationship health model, as pure functions: aggregates in, score, mode, state and flags out.

Nothing here touches the database. ``health.selectors`` turns rows into ``EngagementFacts`` (the
counts and sums of one engagement for a window and its baseline); ``assess`` turns facts into an
``Assessment``; ``health.services`` stores it. Keeping the rules pure lets the nightly run, the
backfill and the tests share them, and lets each rule be tested with plain numbers.

See docs/health.md for the model in plain words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Bump when a rule changes meaning, so stored snapshots say which rules produced them.
ALGORITHM_VERSION = 1

EXPERT_LED, CO_PRODUCTION, CLIENT_LED = "expert_led", "co_production", "client_led"
CONSULTATIVE, TRANSACTIONAL = "consultative", "transactional"

COMPONENTS = ("depth", "balance", "cadence", "sponsor_presence", "feedback", "delivery")
COMPONENT_LABELS = {
    "depth": _("Depth: consultative share of session time"),
    "balance": _("Balance: client initiative close to one half"),
    "cadence": _("Cadence: sessions held against the planned rhythm"),
    "sponsor_presence": _("Sponsor or executive present"),
    "feedback": _("Client feedback"),
    "delivery": _("Milestones delivered on time"),
}
FLAG_KINDS = ("drift_to_transactional", "sponsor_change", "cadence_drop", "feedback_decline", "one_sided",
              "milestone_slippage", "perception_gap")

# Float comparisons against thresholds: 4.75 - 3.75 must count as a drop of 1.0.
_EPSILON = 1e-9


# --- Configuration ----------------------------------------------------------------------------

@dataclass(frozen=True)
class HealthConfig:
    """The thresholds and weights of settings.HEALTH, checked once."""

    window_days: int
    baseline_days: int
    weights: Mapping[str, float]
    consultative_depth: float
    expert_led_below: float
    client_led_above: float
    drift_min_baseline_depth: float
    drift_drop: float
    drift_min_sessions: int
    cadence_gap_factor: float
    cadence_rate_factor: float
    cadence_min_baseline_sessions: int
    feedback_drop: float
    feedback_floor: float
    one_sided_min_events: int
    slippage_late_share: float
    slippage_min_due: int
    perception_gap: float
    severity: Mapping[str, str]
    scored_statuses: tuple[str, ...]
    batch_size: int
    rescore_delay_seconds: int
    rescore_stale_after_seconds: int

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> HealthConfig:
        names = {name.upper(): name for name in cls.__dataclass_fields__}
        missing = sorted(set(names) - set(mapping))
        if missing:
            raise ImproperlyConfigured(f"settings.HEALTH is missing {', '.join(missing)} (see docs/health.md).")
        values = {names[key]: mapping[key] for key in names}
        if set(values["weights"]) != set(COMPONENTS) or any(w < 0 for w in values["weights"].values()):
            raise ImproperlyConfigured(f"settings.HEALTH['WEIGHTS'] needs a non-negative weight for each of "
                                       f"{', '.join(COMPONENTS)}.")
        if set(values["severity"]) != set(FLAG_KINDS):
            raise ImproperlyConfigured(f"settings.HEALTH['SEVERITY'] needs a severity for each of "
                                       f"{', '.join(FLAG_KINDS)}.")
        values["scored_statuses"] = tuple(values["scored_statuses"])
        return cls(**values)


@dataclass(frozen=True)
class Windows:
    """W = the ``window_days`` up to and including ``as_of``; B = the ``baseline_days`` before W."""

    as_of: dt.date
    window_start: dt.date
    baseline_start: dt.date

    @property
    def baseline_end(self) -> dt.date:
        return self.window_start - dt.timedelta(days=1)

    def as_evidence(self) -> dict:
        return {"window": [self.window_start.isoformat(), self.as_of.isoformat()],
                "baseline": [self.baseline_start.isoformat(), self.baseline_end.isoformat()]}


def windows_for(as_of: dt.date, config: HealthConfig) -> Windows:
    window_start = as_of - dt.timedelta(days=config.window_days - 1)
    return Windows(as_of=as_of, window_start=window_start,
                   baseline_start=window_start - dt.timedelta(days=config.baseline_days))


# --- Facts: what the selectors read -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SponsorPeriod:
    contact_id: int
    name: str
    start: dt.date
    end: dt.date | None


@dataclass(slots=True)
class EngagementFacts:
    """Aggregates of one engagement's rows for W and B. Zero means "none happened"."""

    engagement_id: int
    start: dt.date
    planned_cadence_days: int
    # Sessions.
    sessions_w: int = 0
    minutes_w: int = 0
    consultative_minutes_w: int = 0
    advice_w: int = 0
    client_initiated_w: int = 0
    sponsor_or_executive_w: int = 0
    sessions_b: int = 0
    minutes_b: int = 0
    consultative_minutes_b: int = 0
    last_session_on: dt.date | None = None  # latest session in W or B
    # Milestones and comments.
    milestones_proposed_w: int = 0
    milestones_proposed_by_client_w: int = 0
    approvals_w: int = 0
    milestones_due_w: int = 0
    milestones_on_time_w: int = 0
    comments_w: int = 0
    client_comments_w: int = 0
    # Feedback (sums and counts of 1–5 ratings).
    client_rating_sum_w: int = 0
    client_ratings_w: int = 0
    client_rating_sum_b: int = 0
    client_ratings_b: int = 0
    consultant_rating_sum_w: int = 0
    consultant_ratings_w: int = 0
    # The client's sponsor history up to the scoring date, oldest first.
    sponsor_periods: Sequence[SponsorPeriod] = ()


# --- Results ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlagCondition:
    kind: str
    severity: str
    evidence: dict


@dataclass(slots=True)
class Assessment:
    engagement_id: int
    as_of: dt.date
    score: float | None
    mode: str
    state: str
    depth: float | None
    balance: float | None
    advice_rate: float | None
    cadence: float | None
    days_since_last_session: int | None
    sponsor_presence: float | None
    client_rating: float | None
    consultant_rating: float | None
    perception_gap: float | None
    delivery: float | None
    components: dict
    conditions: list[FlagCondition] = field(default_factory=list)
    # Early warnings below a flag: [{"kind", "since", "evidence"}] (see HealthSnapshot.watch).
    watch: list[dict] = field(default_factory=list)

    @property
    def flag_kinds(self) -> set[str]:
        return {condition.kind for condition in self.conditions}


def _ratio(numerator, denominator) -> float | None:
    return numerator / denominator if denominator else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _days_within(start: dt.date, end: dt.date, engagement_start: dt.date) -> int:
    """Days of [start, end] on or after the engagement started (a young engagement has a short past)."""
    first = max(start, engagement_start)
    return max(0, (end - first).days + 1)


def sponsor_changes(periods: Sequence[SponsorPeriod], windows: Windows) -> list[dict]:
    """Sponsor periods starting in W whose contact differs from the sponsor before them."""
    changes = []
    previous = None
    for period in periods:
        if period.start > windows.as_of:
            break
        if (windows.window_start <= period.start and previous is not None
                and previous.contact_id != period.contact_id):
            changes.append({"on": period.start.isoformat(),
                            "previous_sponsor": {"id": previous.contact_id, "name": previous.name},
                            "new_sponsor": {"id": period.contact_id, "name": period.name}})
        previous = period
    return changes


def assess(facts: EngagementFacts, windows: Windows, config: HealthConfig) -> Assessment:
    """Score one engagement: signals, components, score, mode, state and the flags that hold."""
    f, c, as_of = facts, config, windows.as_of
    window_days = _days_within(windows.window_start, as_of, f.start)
    baseline_days = _days_within(windows.baseline_start, windows.baseline_end, f.start)

    # Signals.
    depth = _ratio(f.consultative_minutes_w, f.minutes_w)
    depth_b = _ratio(f.consultative_minutes_b, f.minutes_b)
    advice_rate = _ratio(f.advice_w, f.sessions_w)
    client_events = f.client_initiated_w + f.milestones_proposed_by_client_w + f.client_comments_w + f.approvals_w
    events = f.sessions_w + f.milestones_proposed_w + f.comments_w + f.approvals_w
    balance = _ratio(client_events, events)
    expected_sessions = window_days / f.planned_cadence_days
    # Below one planned interval of history there is nothing to hold the cadence against.
    cadence = min(1.0, f.sessions_w / expected_sessions) if window_days >= f.planned_cadence_days else None
    days_since_last = (as_of - f.last_session_on).days if f.last_session_on else None
    sponsor_presence = _ratio(f.sponsor_or_executive_w, f.sessions_w)
    client_rating = _ratio(f.client_rating_sum_w, f.client_ratings_w)
    client_rating_b = _ratio(f.client_rating_sum_b, f.client_ratings_b)
    consultant_rating = _ratio(f.consultant_rating_sum_w, f.consultant_ratings_w)
    perception_gap = (consultant_rating - client_rating
                      if consultant_rating is not None and client_rating is not None else None)
    delivery = _ratio(f.milestones_on_time_w, f.milestones_due_w)

    mode = ""
    if balance is not None:
        mode = (EXPERT_LED if balance < c.expert_led_below
                else CLIENT_LED if balance > c.client_led_above else CO_PRODUCTION)
    state = "" if depth is None else CONSULTATIVE if depth >= c.consultative_depth else TRANSACTIONAL

    # Components: 0–1 each, None without data, with the counts a person needs to check them.
    values = {
        "depth": (depth, {"consultative_minutes": f.consultative_minutes_w, "minutes": f.minutes_w}),
        "balance": (None if balance is None else 1 - abs(balance - 0.5) * 2,
                    {"balance": _r(balance), "client_events": client_events, "events": events}),
        "cadence": (cadence, {"sessions": f.sessions_w, "expected": _r(expected_sessions, 1),
                              "planned_cadence_days": f.planned_cadence_days}),
        "sponsor_presence": (sponsor_presence, {"sessions_with_sponsor_or_executive": f.sponsor_or_executive_w,
                                                "sessions": f.sessions_w}),
        "feedback": (None if client_rating is None else (client_rating - 1) / 4,
                     {"mean_client_rating": _r(client_rating, 2), "responses": f.client_ratings_w}),
        "delivery": (delivery, {"on_time": f.milestones_on_time_w, "due": f.milestones_due_w}),
    }
    present = {name: value for name, (value, _evidence) in values.items() if value is not None}
    total_weight = sum(c.weights[name] for name in present)
    components = {}
    for name, (value, evidence) in values.items():
        share = c.weights[name] / total_weight if value is not None and total_weight else None
        components[name] = {"value": _r(value), "weight": c.weights[name], "share": _r(share),
                            "points": None if share is None else round(100 * share * value, 1),
                            "evidence": evidence}
    score = (round(100 * sum(c.weights[n] * v for n, v in present.items()) / total_weight, 1)
             if total_weight else None)

    # Flags.
    conditions: list[FlagCondition] = []
    period = windows.as_evidence()

    def flag(kind: str, **evidence) -> None:
        conditions.append(FlagCondition(kind=kind, severity=c.severity[kind], evidence={**period, **evidence}))

    if (f.sessions_w >= c.drift_min_sessions and f.sessions_b >= c.drift_min_sessions
            and depth_b is not None and depth_b >= c.drift_min_baseline_depth - _EPSILON
            and depth <= depth_b - c.drift_drop + _EPSILON):
        flag("drift_to_transactional", depth_window=_r(depth), depth_baseline=_r(depth_b),
             sessions_window=f.sessions_w, sessions_baseline=f.sessions_b,
             consultative_minutes_window=f.consultative_minutes_w, minutes_window=f.minutes_w,
             consultative_minutes_baseline=f.consultative_minutes_b, minutes_baseline=f.minutes_b)

    changes = sponsor_changes(f.sponsor_periods, windows)
    if changes:
        flag("sponsor_change", changes=changes)

    # The gap runs from the last session, or from the start of what we can see.
    gap_from = f.last_session_on or max(f.start, windows.baseline_start)
    gap_days = (as_of - gap_from).days
    rate_w = f.sessions_w / window_days if window_days else None
    rate_b = f.sessions_b / baseline_days if baseline_days else None
    gap_too_long = f.start <= as_of and gap_days > c.cadence_gap_factor * f.planned_cadence_days
    rate_fell = (f.sessions_b >= c.cadence_min_baseline_sessions and rate_w is not None and rate_b
                 and rate_w < c.cadence_rate_factor * rate_b - _EPSILON)
    if gap_too_long or rate_fell:
        flag("cadence_drop", days_without_session=gap_days,
             last_session_on=f.last_session_on.isoformat() if f.last_session_on else None,
             planned_cadence_days=f.planned_cadence_days, sessions_window=f.sessions_w,
             sessions_baseline=f.sessions_b,
             sessions_per_30_days_window=_r(None if rate_w is None else rate_w * 30, 2),
             sessions_per_30_days_baseline=_r(None if rate_b is None else rate_b * 30, 2),
             reasons=[r for r, hit in (("gap", gap_too_long), ("rate", rate_fell)) if hit])

    if client_rating is not None:
        declined = client_rating_b is not None and client_rating <= client_rating_b - c.feedback_drop + _EPSILON
        too_low = client_rating < c.feedback_floor - _EPSILON
        if declined or too_low:
            flag("feedback_decline", mean_rating_window=_r(client_rating, 2),
                 mean_rating_baseline=_r(client_rating_b, 2), responses_window=f.client_ratings_w,
                 responses_baseline=f.client_ratings_b,
                 reasons=[r for r, hit in (("decline", declined), ("below_floor", too_low)) if hit])

    if mode in (EXPERT_LED, CLIENT_LED) and events >= c.one_sided_min_events:
        flag("one_sided", mode=mode, balance=_r(balance), client_events=client_events, events=events,
             client_initiated_sessions=f.client_initiated_w, sessions=f.sessions_w,
             milestones_proposed_by_client=f.milestones_proposed_by_client_w,
             milestones_proposed=f.milestones_proposed_w, client_comments=f.client_comments_w,
             comments=f.comments_w, client_approvals=f.approvals_w)

    if f.milestones_due_w >= c.slippage_min_due:
        late = f.milestones_due_w - f.milestones_on_time_w
        if late / f.milestones_due_w >= c.slippage_late_share - _EPSILON:
            flag("milestone_slippage", due=f.milestones_due_w, late=late, on_time=f.milestones_on_time_w,
                 late_share=_r(late / f.milestones_due_w))

    if perception_gap is not None and perception_gap >= c.perception_gap - _EPSILON:
        flag("perception_gap", consultant_rating=_r(consultant_rating, 2), client_rating=_r(client_rating, 2),
             gap=_r(perception_gap, 2), consultant_responses=f.consultant_ratings_w,
             client_responses=f.client_ratings_w)

    return Assessment(
        engagement_id=f.engagement_id, as_of=as_of, score=score, mode=mode, state=state, depth=_r(depth),
        balance=_r(balance), advice_rate=_r(advice_rate), cadence=_r(cadence),
        days_since_last_session=days_since_last, sponsor_presence=_r(sponsor_presence),
        client_rating=_r(client_rating, 2), consultant_rating=_r(consultant_rating, 2),
        perception_gap=_r(perception_gap, 2), delivery=_r(delivery), components=components,
        conditions=conditions,
    )


@dataclass(frozen=True)
class ComponentLine:
    name: str
    label: str
    value: float | None
    weight: float
    share: float | None
    points: float | None
    evidence: dict


def explain(components: Mapping[str, dict]) -> list[ComponentLine]:
    """The score of a snapshot, component by component (components without data last)."""
    lines = [ComponentLine(name=name, label=COMPONENT_LABELS[name], value=data.get("value"),
                           weight=data.get("weight"), share=data.get("share"), points=data.get("points"),
                           evidence=data.get("evidence", {}))
             for name, data in components.items() if name in COMPONENT_LABELS]
    return sorted(lines, key=lambda line: (line.points is None, -(line.points or 0)))


# --- Flag lifecycle ---------------------------------------------------------------------------

LIVE_STATUSES = ("open", "acknowledged", "snoozed")


@dataclass(frozen=True, slots=True)
class FlagState:
    """What the lifecycle needs to know about a stored flag."""

    id: int
    engagement_id: int
    kind: str
    status: str
    raised_on: dt.date
    last_seen_on: dt.date
    episode_ended_on: dt.date | None
    snoozed_until: dt.date | None


@dataclass
class FlagPlan:
    """The changes one scoring date makes to the flags of a batch."""

    raise_new: list[tuple[int, FlagCondition]] = field(default_factory=list)
    still_seen: list[int] = field(default_factory=list)  # the condition still holds: move last_seen_on
    wake: list[int] = field(default_factory=list)  # snoozed, the date has come, still holds: open again
    auto_resolve: list[int] = field(default_factory=list)  # live, the condition stopped
    end_episode: list[int] = field(default_factory=list)  # closed by a person, the condition stopped


def plan_flags(assessments: Sequence[Assessment], flags: Sequence[FlagState], as_of: dt.date) -> FlagPlan:
    """Decide, per engagement and kind, whether to raise, keep, wake or close a flag on ``as_of``.

    - Condition holds, no flag: raise one.
    - Holds, live flag: keep it (a snoozed one opens again once its date has come).
    - Holds, a person resolved or dismissed the flag during this episode: stay quiet.
    - Stopped holding: a live flag is auto-resolved; a closed flag's episode ends, so the next time
      the condition holds it is a new episode and a new flag.
    A (engagement, kind) whose flags carry a date after ``as_of`` is left alone, so replaying an
    older date never rewrites newer history; replaying the same date changes nothing.
    """
    plan = FlagPlan()
    by_key: dict[tuple[int, str], list[FlagState]] = {}
    for flag in flags:
        by_key.setdefault((flag.engagement_id, flag.kind), []).append(flag)
    holding = {(a.engagement_id, condition.kind): condition for a in assessments for condition in a.conditions}
    assessed = {a.engagement_id for a in assessments}
    # Only pairs with a condition or a stored flag can change: most engagements have neither.
    for key in sorted(holding.keys() | {key for key in by_key if key[0] in assessed}):
        existing = by_key.get(key, [])
        if any(flag.raised_on > as_of or flag.last_seen_on > as_of
               or (flag.episode_ended_on is not None and flag.episode_ended_on > as_of) for flag in existing):
            continue
        live = [flag for flag in existing if flag.status in LIVE_STATUSES]
        closed_in_episode = [flag for flag in existing
                             if flag.status not in LIVE_STATUSES and flag.episode_ended_on is None]
        condition = holding.get(key)
        if condition is not None:
            for flag in (*live, *closed_in_episode):
                if flag.last_seen_on < as_of:
                    plan.still_seen.append(flag.id)
            for flag in live:
                if flag.status == "snoozed" and flag.snoozed_until is not None and flag.snoozed_until <= as_of:
                    plan.wake.append(flag.id)
            if not live and not closed_in_episode:
                plan.raise_new.append((key[0], condition))
        else:
            plan.auto_resolve.extend(flag.id for flag in live)
            plan.end_episode.extend(flag.id for flag in closed_in_episode)
    return plan
