"""The relationship health model, as pure functions: aggregates in, score, mode, state and flags out.

Nothing here touches the database. ``health.selectors`` turns rows into ``EngagementFacts`` (the
counts and sums of one engagement for a window and its baseline); ``assess`` turns facts into an
``Assessment``; ``health.services`` stores it. Keeping the rules pure lets the nightly run, the
backfill and the tests share them, and lets each rule be tested with plain numbers.

See docs/health.md for the model in plain words.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Bump when a rule changes meaning, so stored snapshots say which rules produced them.
ALGORITHM_VERSION = 2

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

# The per-session signals the drift detector weighs (settings.HEALTH["DRIFT_WEIGHTS"]).
DRIFT_SIGNALS = ("readouts", "focus", "mislabelled", "advice", "initiative", "duration")

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
    balance_baseline_weight: float
    drift_min_sessions: int
    drift_prior_strength: float
    drift_charts: Sequence[tuple[float, float, float]]
    drift_change_share: float
    drift_weights: Mapping[str, float]
    drift_duration_cap: float
    drift_sponsor_weight: float
    drift_kpi_set_weight: float
    drift_kpi_report_weight: float
    drift_kpi_missed_weight: float
    drift_raise_at: float
    drift_sponsor_raise_at: float
    drift_sponsor_watch_at: float
    drift_clear_at: float
    drift_watch_at: float
    drift_clear_depth: float
    cadence_gap_factor: float
    cadence_hold_gap_factor: float
    cadence_watch_gap_factor: float
    cadence_min_baseline_sessions: int
    cadence_rate_days: int
    cadence_rate_raise_p: float
    cadence_rate_hold_p: float
    feedback_drop: float
    feedback_floor: float
    feedback_rating_sd: float
    feedback_raise_p: float
    feedback_hold_p: float
    one_sided_min_events: int
    one_sided_raise_p: float
    one_sided_hold_p: float
    min_episode_days: int
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
        if set(values["drift_weights"]) != set(DRIFT_SIGNALS):
            raise ImproperlyConfigured(f"settings.HEALTH['DRIFT_WEIGHTS'] needs a weight for each of "
                                       f"{', '.join(DRIFT_SIGNALS)}.")
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


class SessionRow(NamedTuple):
    """One session of W, as the change detector reads it (oldest first in ``EngagementFacts.recent``).

    ``readout``: a KPI read-out, i.e. its focus is KPI review or reporting, or KPIs were discussed
    and the client did not ask for our view. ``conversation``: labelled consultative and not a
    read-out, so a label alone does not make a session consultative.

    A named tuple rather than a frozen dataclass: the selectors make one per session of W (some
    19,000 a batch of 1,000 engagements) straight from the database row, three times faster
    (docs/health.md, Benchmark). Immutable and read by name all the same.
    """

    day: dt.date
    minutes: int
    labelled: bool       # focus strategy, positioning, advisory or co-creation
    readout: bool
    advice: bool         # the client asked for our view
    client: bool         # the client initiated it
    sponsor_or_executive: bool

    @property
    def conversation(self) -> bool:
        return self.labelled and not self.readout

    @property
    def mislabelled(self) -> bool:
        """Labelled consultative, yet a KPI read-out: the label and the content disagree."""
        return self.labelled and self.readout


class KPIRow(NamedTuple):
    """One KPI of the engagement: when it appeared, when it was last measured (up to the date).

    A named tuple, made straight from the database row like ``SessionRow``.
    """

    id: int
    name: str
    target: float | None
    higher_is_better: bool
    added_on: dt.date | None          # created (None for KPIs older than that record)
    first_measured_on: dt.date | None
    last_measured_on: dt.date | None


@dataclass(slots=True)
class EngagementFacts:
    """Aggregates of one engagement's rows for W and B. Zero means "none happened"."""

    engagement_id: int
    start: dt.date
    planned_cadence_days: int
    # Sessions of W (aggregates, and the rows themselves oldest first in ``recent``).
    sessions_w: int = 0
    minutes_w: int = 0
    consultative_minutes_w: int = 0
    advice_w: int = 0
    client_initiated_w: int = 0
    sponsor_or_executive_w: int = 0
    recent: Sequence[SessionRow] = ()
    # Sessions of B.
    sessions_b: int = 0
    minutes_b: int = 0
    consultative_minutes_b: int = 0
    minutes_squared_b: int = 0
    labelled_b: int = 0
    readouts_b: int = 0
    conversations_b: int = 0
    advice_b: int = 0
    client_initiated_b: int = 0
    last_session_on: dt.date | None = None  # latest session in W or B
    last_advice_on: dt.date | None = None  # the client last asked for our view (W or B)
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
    # KPIs: the engagement's KPIs, and the values dated in W as (kpi id, date, value), oldest first.
    kpis: Sequence[KPIRow] = ()
    kpi_values_w: Sequence[tuple[int, dt.date, float]] = ()
    # Planned breaks touching W or B, as (first day, last day), oldest first.
    breaks: Sequence[tuple[dt.date, dt.date]] = ()


# --- Results ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlagCondition:
    """A flag kind whose evidence holds. ``hold_only``: strong enough to keep a flag that is already
    up, not to raise one (the hysteresis band between the clear and raise levels)."""

    kind: str
    severity: str
    evidence: dict
    hold_only: bool = False


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
        return {condition.kind for condition in self.conditions if not condition.hold_only}


def _ratio(numerator, denominator) -> float | None:
    return numerator / denominator if denominator else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _days_within(start: dt.date, end: dt.date, engagement_start: dt.date) -> int:
    """Days of [start, end] on or after the engagement started (a young engagement has a short past)."""
    first = max(start, engagement_start)
    return max(0, (end - first).days + 1)


def _break_days(breaks: Sequence[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> int:
    """Days of [start, end] inside a planned break."""
    return sum(max(0, (min(end, last) - max(start, first)).days + 1) for first, last in breaks)


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


# --- Weighing evidence ------------------------------------------------------------------------
#
# The drift detector asks, session after session, "is this relationship still what it was in B,
# or has it become markedly more transactional?" Each session of W adds the log-likelihood ratio
# of what it shows (a KPI read-out or not, labelled consultative or not, advice asked or not,
# who initiated it, how long it lasted) under the two answers; a one-sided CUSUM keeps the sum
# since the moment it last fell to zero, so healthy sessions pull it back to zero and a run of
# transactional ones pushes it up, by more the more surprising each is for this relationship.
# The sum is in nats: 3 nats means the recent sessions are e^3 ≈ 20 times likelier under "it
# slid" than under "nothing changed". See docs/health.md, How flags decide.

def _shrunk_rate(hits: int, trials: int, prior: float, strength: float) -> float:
    """The baseline rate, pulled towards a typical value when B has few sessions (a Beta prior)."""
    return min(0.97, max(0.03, (hits + prior * strength) / (trials + strength)))


def _shifted(rate: float, odds_ratio: float) -> float:
    """The rate whose odds are ``odds_ratio`` times those of ``rate``."""
    odds = rate / (1 - rate) * odds_ratio
    return odds / (1 + odds)


def bernoulli_llr(rate_before: float, rate_after: float, changes: float = 1.0) -> tuple[float, float]:
    """Log-likelihood ratio (slid vs not) of seeing the event, and of not seeing it.

    ``changes``: the probability that a slide moves this signal at all (a slide need not change
    every sign at once), so "slid" is the mixture (1 - changes) × before + changes × after and a
    signal that did not move costs little evidence.
    """
    return (math.log(1 - changes + changes * rate_after / rate_before),
            math.log(1 - changes + changes * (1 - rate_after) / (1 - rate_before)))


# Per-session indicators: name, the attribute of SessionRow, the rate it has in a typical healthy
# relationship (the prior), which way a slide moves it (+1: more often; -1: less often), and which
# sessions it is asked of (None: all; False: those that are not KPI read-outs; True: read-outs).
# The consultant's label is weighed given what the session was: among sessions that are not
# read-outs, fewer consultative labels is a sign ("focus"); among read-outs, more consultative
# labels is the optimistic-label sign ("mislabelled"). Asked of every session, the label, the
# read-out and "labelled and a read-out" would weigh the same fact two or three times.
# The first indicator must be the read-out: the others' condition reads it from a session's key.
_INDICATORS = (("readouts", "readout", 0.25, +1, None), ("focus", "labelled", 0.8, -1, False),
               ("mislabelled", "labelled", 0.15, +1, True), ("advice", "advice", 0.4, -1, None),
               ("initiative", "client", 0.45, -1, None))


@dataclass(frozen=True, slots=True)
class DriftEvidence:
    score: float                # CUSUM of the sessions plus the context, in nats
    sessions_score: float       # the CUSUM alone
    since: dt.date | None       # the first session of the current run (the estimated change point)
    run: Sequence[SessionRow]   # the sessions of the run
    parts: list[dict]
    kpi: dict
    sponsor_change: dict | None
    before: dict
    readouts_since_sponsor: int
    # Since a sponsor change in W: the evidence of every session from the change on (no reset, the
    # change point being known) plus the KPI context, in nats; None without a change.
    since_sponsor: float | None = None
    sessions_since_sponsor: int = 0


def drift_evidence(f: EngagementFacts, windows: Windows, c: HealthConfig) -> DriftEvidence | None:
    """The weight of evidence that the engagement slid to transactional during W; None without a baseline."""
    if f.sessions_b < c.drift_min_sessions:
        return None
    strength = c.drift_prior_strength
    rates, before = {}, {"sessions": f.sessions_b}
    for name, _attribute, prior, _direction, _given in _INDICATORS:
        rates[name] = _shrunk_rate(*_baseline_count(f, name), prior, strength)
        before[name] = round(rates[name], 3)
    before["consultative_share"] = round(_shrunk_rate(f.conversations_b, f.sessions_b, 0.6, strength), 3)
    mean = f.minutes_b / f.sessions_b
    variance = max(f.minutes_squared_b / f.sessions_b - mean * mean, 0.0)
    sd = max(math.sqrt(variance), 0.2 * mean, 5.0)
    before["mean_minutes"] = round(mean)
    # The charts of settings.HEALTH: today one, tuned to a sudden, marked slide; a milder one may be
    # added, paying a penalty for the second look. The one with more evidence speaks.
    best, sudden = None, None
    keys = _session_keys(f.recent)
    for odds_ratio, shorter_factor, penalty in c.drift_charts:
        chart = _drift_chart(f.recent, rates, mean, sd, odds_ratio, shorter_factor, c, keys)
        if sudden is None:  # the first chart, tuned to a sudden slide: the sponsor test reuses it
            sudden = chart
        if best is None or chart[0] - penalty > best[0]:
            best = (chart[0] - penalty, *chart[1:])
    total, run_start, llr, duration_llr = best
    total = max(0.0, total)
    run = f.recent[run_start:] if total > 0 else ()
    parts = []
    if run:
        for name, (attribute, given, hit, miss) in llr.items():
            asked = [session for session in run if given is None or session.readout == given]
            if not asked:  # a sign asked of none of the run's sessions says nothing: not shown
                continue
            hits = sum(1 for session in asked if getattr(session, attribute))
            parts.append({"signal": name, "recent": round(hits / len(asked), 3),
                          "before": before[name], "sessions": len(asked),
                          "evidence": round(hits * hit + (len(asked) - hits) * miss, 2)})
        parts.append({"signal": "duration", "unit": "minutes",
                      "recent": round(sum(s.minutes for s in run) / len(run)), "before": before["mean_minutes"],
                      "evidence": round(sum(duration_llr(s.minutes) for s in run), 2)})

    # The context: a new sponsor, the KPI set they changed, KPI values reported with no
    # consultative conversation in between, targets missed again and again.
    change = None
    for period_change in sponsor_changes(f.sponsor_periods, windows):
        change = period_change  # the latest change in W
    since = run[0].day if run else None
    kpi: dict = {}
    context = 0.0
    readouts_since_sponsor = 0
    since_sponsor, sessions_since_sponsor = None, 0
    if change is not None:
        changed_on = dt.date.fromisoformat(change["on"])
        readouts_since_sponsor = sum(1 for s in f.recent if s.day >= changed_on and s.readout)
        after_change = [s for s in f.recent if s.day >= changed_on]
        sessions_since_sponsor = len(after_change)
        since_sponsor = _sessions_llr(after_change, sudden[2], sudden[3])
        added = [k.name for k in f.kpis
                 if (k.added_on or k.first_measured_on) and (k.added_on or k.first_measured_on) >= changed_on]
        # Dropped: measured before the change, not since, while other KPIs were measured since.
        measured_since = any(k.last_measured_on and k.last_measured_on >= changed_on for k in f.kpis)
        dropped = [k.name for k in f.kpis if measured_since and k.last_measured_on
                   and k.last_measured_on < changed_on and (windows.as_of - changed_on).days >= 35]
        if added or dropped:
            kpi["new_after_sponsor"], kpi["dropped_after_sponsor"] = added, dropped
            since_sponsor += c.drift_kpi_set_weight
        silent_since_change = _reports_without_conversation(f, changed_on)
        since_sponsor += c.drift_kpi_report_weight * min(silent_since_change, 3)
        if run:
            context += c.drift_sponsor_weight
            parts.append({"signal": "sponsor_change", "unit": "count", "recent": 1, "before": 0,
                          "evidence": c.drift_sponsor_weight})
            if added or dropped:
                context += c.drift_kpi_set_weight
                parts.append({"signal": "kpi_set_change", "unit": "count", "recent": len(added) + len(dropped),
                              "before": 0, "evidence": c.drift_kpi_set_weight})
    if run:
        # Report dates since the change point with no consultative conversation since the report before.
        silent = _reports_without_conversation(f, since)
        if silent:
            kpi["reports_without_conversation"] = silent
            weight = c.drift_kpi_report_weight * min(silent, 3)
            context += weight
            parts.append({"signal": "kpi_without_conversation", "unit": "count", "recent": silent, "before": 0,
                          "evidence": round(weight, 2)})
        missed = _kpis_missing_targets(f)
        if missed:
            kpi["targets_missed"] = missed
            weight = c.drift_kpi_missed_weight * min(len(missed), 2)
            context += weight
            parts.append({"signal": "kpi_targets_missed", "unit": "count", "recent": len(missed), "before": 0,
                          "evidence": round(weight, 2)})
    return DriftEvidence(score=round(total + context, 2), sessions_score=round(total, 2), since=since, run=run,
                         parts=parts, kpi=kpi, sponsor_change=change, before=before,
                         readouts_since_sponsor=readouts_since_sponsor,
                         since_sponsor=None if since_sponsor is None else round(since_sponsor, 2),
                         sessions_since_sponsor=sessions_since_sponsor)


def _reports_without_conversation(f: EngagementFacts, since: dt.date) -> int:
    """KPI report dates from ``since`` on with no consultative conversation since the report before."""
    report_days = sorted({day for _kpi, day, _value in f.kpi_values_w})
    conversations = [s.day for s in f.recent if s.conversation]
    silent, previous = 0, None
    for day in report_days:
        if previous is not None and day >= since and not any(previous < d <= day for d in conversations):
            silent += 1
        previous = day
    return silent


def _sessions_llr(sessions: Sequence[SessionRow], llr: dict, duration_llr) -> float:
    """The summed log-likelihood ratio of ``sessions`` under one chart (no reset to zero)."""
    total = 0.0
    for session in sessions:
        total += duration_llr(session.minutes)
        for attribute, given, hit, miss in llr.values():
            if given is None or session.readout == given:
                total += hit if getattr(session, attribute) else miss
    return total


def _baseline_count(f: EngagementFacts, signal: str) -> tuple[int, int]:
    """How many of B's sessions showed the sign, and of how many it was asked."""
    if signal == "focus":  # labelled consultative, of the sessions that were not read-outs
        return f.conversations_b, f.sessions_b - f.readouts_b
    if signal == "mislabelled":  # labelled consultative, of the read-outs
        return f.labelled_b - f.conversations_b, f.readouts_b
    return getattr(f, {"readouts": "readouts_b", "advice": "advice_b",
                       "initiative": "client_initiated_b"}[signal]), f.sessions_b


def _session_keys(sessions: Sequence[SessionRow]) -> list[tuple]:
    """Each session as (minutes, its signs in ``_INDICATORS`` order): all a chart's step depends on."""
    return list(map(attrgetter("minutes", *(attribute for _name, attribute, _prior, _direction, _given in _INDICATORS)),
                    sessions))


def _drift_chart(sessions: Sequence[SessionRow], rates: dict, mean: float, sd: float, odds_ratio: float,
                 shorter_factor: float, c: HealthConfig, keys: Sequence[tuple] | None = None):
    """One CUSUM over the sessions: (evidence now, index of the run's first session, the per-sign
    log-likelihood ratios, the length's ratio as a function).

    ``keys``: ``_session_keys(sessions)``, when the caller runs several charts over the same sessions.
    """
    share = c.drift_change_share
    llr = {}
    for name, attribute, _prior, direction, given in _INDICATORS:
        after = _shifted(rates[name], odds_ratio if direction > 0 else 1 / odds_ratio)
        hit, miss = bernoulli_llr(rates[name], after, share)
        weight = c.drift_weights[name]
        llr[name] = (attribute, given, weight * hit, weight * miss)
    shorter = mean * shorter_factor
    duration_weight, cap = c.drift_weights["duration"], c.drift_duration_cap

    def duration_llr(minutes: int) -> float:
        value = ((minutes - mean) ** 2 - (minutes - shorter) ** 2) / (2 * sd * sd)
        return duration_weight * math.log(1 - share + share * math.exp(max(-cap, min(cap, value))))

    table = tuple(llr.values())
    # A session's step depends only on its length and signs, of which an engagement has few
    # combinations: each is computed once (in the same order, so to the same float) and reused.
    steps: dict[tuple, float] = {}
    total, run_start = 0.0, 0
    for index, key in enumerate(_session_keys(sessions) if keys is None else keys):
        step = steps.get(key)
        if step is None:
            step = duration_llr(key[0])
            readout = key[1]
            for (_attribute, given, hit, miss), shown in zip(table, key[1:], strict=True):
                if given is None or readout == given:
                    step += hit if shown else miss
            steps[key] = step
        total += step
        if total <= 0:
            total, run_start = 0.0, index + 1
    return total, run_start, llr, duration_llr


def _kpis_missing_targets(f: EngagementFacts) -> list[str]:
    """KPIs whose last two values in W both missed their target."""
    by_kpi: dict[int, list[float]] = {}
    for kpi_id, _day, value in f.kpi_values_w:
        by_kpi.setdefault(kpi_id, []).append(value)
    missed = []
    for k in f.kpis:
        values = by_kpi.get(k.id, [])
        if k.target is None or len(values) < 2:
            continue
        if all((v < k.target) if k.higher_is_better else (v > k.target) for v in values[-2:]):
            missed.append(k.name)
    return missed


def beta_below(hits: int, trials: int, threshold: float) -> float:
    """P(rate < threshold) for a rate seen ``hits`` times in ``trials``, with a uniform prior.

    The Beta(hits + 1, misses + 1) distribution function, exact for whole counts: it equals the
    probability of at least hits + 1 successes in trials + 1 draws at rate ``threshold``.
    """
    n, k = trials + 1, hits + 1
    return sum(math.comb(n, j) * threshold ** j * (1 - threshold) ** (n - j) for j in range(k, n + 1))


def _normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _poisson_at_most(k: int, mean: float) -> float:
    term = total = math.exp(-mean)
    for j in range(1, k + 1):
        term *= mean / j
        total += term
    return min(1.0, total)


def assess(facts: EngagementFacts, windows: Windows, config: HealthConfig) -> Assessment:
    """Score one engagement: signals, components, score, mode, state, the flags that hold and the watch level."""
    f, c, as_of = facts, config, windows.as_of
    window_days = _days_within(windows.window_start, as_of, f.start)
    baseline_days = _days_within(windows.baseline_start, windows.baseline_end, f.start)

    # Signals. Depth counts sessions, not minutes (a short read-out is a whole conversation lost),
    # and only consultative conversations: a consultative label on a KPI read-out does not count.
    conversations_w = sum(1 for s in f.recent if s.conversation)
    depth = _ratio(conversations_w, f.sessions_w)
    advice_rate = _ratio(f.advice_w, f.sessions_w)
    client_events = f.client_initiated_w + f.milestones_proposed_by_client_w + f.client_comments_w + f.approvals_w
    events = f.sessions_w + f.milestones_proposed_w + f.comments_w + f.approvals_w
    # Balance is a trait of the relationship more than of a quarter: W's events, plus B's sessions
    # at half weight, so a dozen events do not swing the mode on their own.
    balance = _ratio(client_events + c.balance_baseline_weight * f.client_initiated_b,
                     events + c.balance_baseline_weight * f.sessions_b) if events else None
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
        "depth": (depth, {"consultative_sessions": conversations_w, "sessions": f.sessions_w}),
        "balance": (None if balance is None else 1 - abs(balance - 0.5) * 2,
                    {"balance": _r(balance), "client_events": client_events, "events": events,
                     "client_sessions_before": f.client_initiated_b, "sessions_before": f.sessions_b}),
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

    # Flags and the watch level.
    conditions: list[FlagCondition] = []
    watch: list[dict] = []
    period = windows.as_evidence()

    def flag(kind: str, *, hold_only: bool = False, **evidence) -> None:
        conditions.append(FlagCondition(kind=kind, severity=c.severity[kind], evidence={**period, **evidence},
                                        hold_only=hold_only))

    def watching(kind: str, watch_since: dt.date | None, evidence: dict) -> None:
        watch.append({"kind": kind, "since": (watch_since or as_of).isoformat(), "evidence": {**period, **evidence}})

    _drift(f, windows, c, depth, conversations_w, flag, watching)

    changes = sponsor_changes(f.sponsor_periods, windows)
    if changes:
        flag("sponsor_change", changes=changes)

    _cadence(f, windows, c, window_days, baseline_days, flag, watching)

    if client_rating is not None:
        _feedback(f, c, client_rating, client_rating_b, flag, watching)

    if balance is not None and events >= c.one_sided_min_events:
        _one_sided(f, c, mode, client_events / events, client_events, events, flag, watching)

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
        conditions=conditions, watch=watch,
    )


def _drift(f, windows, c, depth, conversations_w, flag, watching) -> None:
    weighed = drift_evidence(f, windows, c)
    if weighed is None:
        return
    run = weighed.run
    raise_at = c.drift_raise_at
    # Still transactional in absolute terms: keeps a raised flag up after the baseline has filled
    # with the slide itself (no more contrast), until consultative conversations come back.
    still_transactional = (depth is not None and f.sessions_w >= c.drift_min_sessions
                           and depth < c.drift_clear_depth)
    # A sponsor change is a known moment: weighing every session since it (no search over change
    # points, hence no reset) asks one question once, so less evidence answers it as surely.
    since_sponsor = weighed.since_sponsor if weighed.sessions_since_sponsor else None
    sponsor_raises = since_sponsor is not None and since_sponsor >= c.drift_sponsor_raise_at - _EPSILON
    if not run and not still_transactional and not sponsor_raises:
        return
    advice_in_run = sum(1 for s in run if s.advice)
    evidence = {
        "v": 2, "since": weighed.since.isoformat() if weighed.since else None,
        "score": weighed.score, "sessions_score": weighed.sessions_score, "raise_at": raise_at,
        "clear_at": c.drift_clear_at,
        "recent": {"sessions": len(run), "readouts": sum(1 for s in run if s.readout),
                   "consultative": sum(1 for s in run if s.conversation), "advice": advice_in_run,
                   "client": sum(1 for s in run if s.client),
                   "consultative_share": _r(_ratio(sum(1 for s in run if s.conversation), len(run))),
                   "mean_minutes": round(sum(s.minutes for s in run) / len(run)) if run else None},
        "before": weighed.before,
        "depth_window": _r(depth), "sessions_window": f.sessions_w, "sessions_baseline": f.sessions_b,
        "last_advice_on": f.last_advice_on.isoformat() if f.last_advice_on else None,
        "sponsor_change": weighed.sponsor_change, "kpi": weighed.kpi, "parts": weighed.parts,
    }
    if since_sponsor is not None:
        evidence["since_sponsor"] = {"score": since_sponsor, "sessions": weighed.sessions_since_sponsor,
                                     "raise_at": c.drift_sponsor_raise_at}
    if not run:  # only the absolute state holds: describe W as a whole
        evidence["recent"] = {"sessions": f.sessions_w, "readouts": sum(1 for s in f.recent if s.readout),
                              "consultative": conversations_w, "advice": f.advice_w,
                              "client": f.client_initiated_w, "consultative_share": _r(depth),
                              "mean_minutes": round(f.minutes_w / f.sessions_w) if f.sessions_w else None}
        evidence["since"] = windows.window_start.isoformat()
    raises = weighed.score >= raise_at - _EPSILON or sponsor_raises
    if raises:
        flag("drift_to_transactional", **evidence)
    elif weighed.score >= c.drift_clear_at or still_transactional:
        flag("drift_to_transactional", hold_only=True, **evidence)
    if not raises:
        sponsor = weighed.sponsor_change
        if (sponsor is not None and since_sponsor is not None and weighed.readouts_since_sponsor
                and since_sponsor >= c.drift_sponsor_watch_at):
            watching("drift_to_transactional", dt.date.fromisoformat(sponsor["on"]),
                     {**evidence, "reason": "sponsor_then_readouts", "readouts": weighed.readouts_since_sponsor})
        elif weighed.score >= c.drift_watch_at:
            watching("drift_to_transactional", weighed.since, evidence)


def _cadence(f, windows, c, window_days, baseline_days, flag, watching) -> None:
    as_of, planned = windows.as_of, f.planned_cadence_days
    if f.start > as_of:
        return
    # No cadence flag during a planned break nor for one planned interval after it.
    for first, last in f.breaks:
        if first <= as_of <= last + dt.timedelta(days=planned):
            return
    # The usual interval: what B shows (with at least a few sessions), else the plan; never
    # tighter than half the plan (a burst of meetings is not a new rhythm to hold them to).
    break_days_b = _break_days(f.breaks, max(windows.baseline_start, f.start), windows.baseline_end)
    active_b = baseline_days - break_days_b
    usual = planned
    if f.sessions_b >= c.cadence_min_baseline_sessions and active_b > 0:
        usual = max(planned * 0.5, min(planned, active_b / f.sessions_b))
    gap_from = f.last_session_on or max(f.start, windows.baseline_start)
    gap_days = (as_of - gap_from).days
    breaks_in_gap = _break_days(f.breaks, gap_from + dt.timedelta(days=1), as_of)
    gap = gap_days - breaks_in_gap
    # The rate: sessions over the last RATE_DAYS (minus break days) against the usual rhythm;
    # how unlikely so few would be if nothing had changed (Poisson).
    recent_from = max(as_of - dt.timedelta(days=c.cadence_rate_days - 1), f.start)
    exposure = (as_of - recent_from).days + 1 - _break_days(f.breaks, recent_from, as_of)
    held = sum(1 for s in f.recent if s.day >= recent_from)
    expected = exposure / usual if exposure > 0 else 0.0
    p_rate = _poisson_at_most(held, expected) if expected > 0 else 1.0
    rate_fell = f.sessions_b >= c.cadence_min_baseline_sessions and expected >= 2 and held <= expected / 2
    gap_too_long = gap > c.cadence_gap_factor * usual + _EPSILON
    gap_holds = gap > c.cadence_hold_gap_factor * usual + _EPSILON
    evidence = {
        "v": 2, "days_without_session": gap_days,
        "last_session_on": f.last_session_on.isoformat() if f.last_session_on else None,
        "planned_cadence_days": planned, "usual_interval_days": round(usual, 1), "break_days": breaks_in_gap or None,
        "since": recent_from.isoformat(), "sessions_recent": held, "expected_recent": round(expected, 1),
        "probability": round(1 - p_rate, 3), "sessions_window": f.sessions_w, "sessions_baseline": f.sessions_b,
        "sessions_per_30_days_window": _r(f.sessions_w / window_days * 30, 2) if window_days else None,
        "sessions_per_30_days_baseline": _r(f.sessions_b / baseline_days * 30, 2) if baseline_days else None,
    }
    rate_raises = rate_fell and p_rate <= c.cadence_rate_raise_p
    rate_holds = rate_fell and p_rate <= c.cadence_rate_hold_p
    reasons = [r for r, hit in (("gap", gap_too_long or gap_holds), ("rate", rate_raises or rate_holds)) if hit]
    if gap_too_long or rate_raises:
        flag("cadence_drop", reasons=reasons, **evidence)
    elif gap_holds or rate_holds:
        flag("cadence_drop", hold_only=True, reasons=reasons, **evidence)
    if not (gap_too_long or rate_raises) and gap > c.cadence_watch_gap_factor * usual:
        watching("cadence_drop", gap_from, {**evidence, "reasons": ["gap"]})


def _feedback(f, c, client_rating, client_rating_b, flag, watching) -> None:
    """How sure we are that the client's rating really fell (or really is low), given the responses behind it."""
    sd = c.feedback_rating_sd
    decline_p = 0.0
    if client_rating_b is not None and f.client_ratings_b:
        spread = sd * math.sqrt(1 / f.client_ratings_w + 1 / f.client_ratings_b)
        decline_p = _normal_cdf((client_rating_b - client_rating - c.feedback_drop) / spread)
    low_p = _normal_cdf((c.feedback_floor - client_rating) / (sd / math.sqrt(f.client_ratings_w)))
    probability = max(decline_p, low_p)
    evidence = {"v": 2, "mean_rating_window": _r(client_rating, 2), "mean_rating_baseline": _r(client_rating_b, 2),
                    "responses_window": f.client_ratings_w, "responses_baseline": f.client_ratings_b,
                    "probability": round(probability, 3),
                    "reasons": [r for r, p in (("decline", decline_p), ("below_floor", low_p))
                             if p >= c.feedback_hold_p]}
    if probability >= c.feedback_raise_p:
        flag("feedback_decline", **evidence)
    elif probability >= c.feedback_hold_p:
        flag("feedback_decline", hold_only=True, **evidence)
        watching("feedback_decline", None, evidence)


def _one_sided(f, c, mode, balance, client_events, events, flag, watching) -> None:
    """How sure we are that one side does (nearly) everything, given how many events stand behind the balance."""
    expert_p = beta_below(client_events, events, c.expert_led_below)
    client_p = beta_below(events - client_events, events, 1 - c.client_led_above)
    probability, side = max((expert_p, EXPERT_LED), (client_p, CLIENT_LED))
    evidence = {"v": 2, "mode": side, "balance": _r(balance), "client_events": client_events, "events": events,
                    "probability": round(probability, 3), "client_initiated_sessions": f.client_initiated_w,
                    "sessions": f.sessions_w, "milestones_proposed_by_client": f.milestones_proposed_by_client_w,
                    "milestones_proposed": f.milestones_proposed_w, "client_comments": f.client_comments_w,
                    "comments": f.comments_w, "client_approvals": f.approvals_w}
    if probability >= c.one_sided_raise_p:
        flag("one_sided", **evidence)
    elif probability >= c.one_sided_hold_p:
        flag("one_sided", hold_only=True, **evidence)
        if mode == side:
            watching("one_sided", None, evidence)


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


def plan_flags(assessments: Sequence[Assessment], flags: Sequence[FlagState], as_of: dt.date,
               min_episode_days: int = 0) -> FlagPlan:
    """Decide, per engagement and kind, whether to raise, keep, wake or close a flag on ``as_of``.

    - Condition holds, no flag: raise one.
    - Holds, live flag: keep it (a snoozed one opens again once its date has come).
    - Holds, a person resolved or dismissed the flag during this episode: stay quiet.
    - Stopped holding: a live flag is auto-resolved (not before ``min_episode_days`` after it was
      raised); a closed flag's episode ends, so the next time the condition holds it is a new
      episode and a new flag.
    - A ``hold_only`` condition (evidence between the clear and raise levels) keeps a flag, or an
      episode a person closed, going, but raises nothing: the hysteresis that stops flapping.
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
        if condition is not None and condition.hold_only and not live and not closed_in_episode:
            condition = None
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
            plan.auto_resolve.extend(flag.id for flag in live if (as_of - flag.raised_on).days >= min_episode_days)
            plan.end_episode.extend(flag.id for flag in closed_in_episode)
    return plan


def prune_watch(assessments: Sequence[Assessment], flags: Sequence[FlagState], plan: FlagPlan) -> None:
    """Drop watch items of kinds that have a live flag after ``plan``: a flag says it louder."""
    resolved = set(plan.auto_resolve)
    flagged = {(flag.engagement_id, flag.kind) for flag in flags
               if flag.status in LIVE_STATUSES and flag.id not in resolved}
    flagged.update((engagement_id, condition.kind) for engagement_id, condition in plan.raise_new)
    for assessment in assessments:
        if assessment.watch:
            assessment.watch = [item for item in assessment.watch
                                if (assessment.engagement_id, item["kind"]) not in flagged]
