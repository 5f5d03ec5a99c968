"""A labelled synthetic portfolio: what happens in each engagement, day by day, from a seed.

Each engagement lives a *story* of one *family* (a healthy control, a sudden slide after a
sponsor change, a gradual slide, …). The story is a list of phases, each a ``Style`` (how often
the two sides meet, what the sessions are about, who takes the initiative, how the client rates
us); the events (sessions, milestones, comments, approvals, KPI values, feedback, sponsor
changes, planned breaks) are drawn from the phase in force on their day. Every engagement draws
its own parameters, so no two controls look alike and the slides differ in depth and speed.

Nothing here touches the database: ``replay`` writes the events through the services. The same
seed gives the same portfolio on any machine; each engagement has its own random stream (seeded
by the seed and its position), so changing one family's recipe does not reshuffle the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

DRIFT, CADENCE, ONE_SIDED = "drift_to_transactional", "cadence_drop", "one_sided"
FEEDBACK_DECLINE = "feedback_decline"
EXPERT_LED, CLIENT_LED = "expert_led", "client_led"

# Family, its share of the portfolio (out of 40), and what it is in words (for the report).
FAMILIES: tuple[tuple[str, int, str], ...] = (
    ("sudden_sponsor", 5, "sudden slide after a sponsor change"),
    ("gradual", 4, "gradual slide over ~5 months"),
    ("kpi_pattern", 4, "KPI read-outs under optimistic labels"),
    ("cadence_drop", 4, "cadence drop"),
    ("recovery", 3, "slide, then recovery"),
    ("young", 3, "young engagement (healthy)"),
    (EXPERT_LED, 2, "expert-led (stable)"),
    (CLIENT_LED, 2, "client-led (stable)"),
    ("healthy", 13, "healthy control"),
)
FAMILY_NAMES = tuple(name for name, _share, _title in FAMILIES)
FAMILY_TITLES = {name: title for name, _share, title in FAMILIES}
# The flag kind that means "caught" for a slide family.
RELEVANT_KIND = {"sudden_sponsor": DRIFT, "gradual": DRIFT, "kpi_pattern": DRIFT, "recovery": DRIFT,
                 "cadence_drop": CADENCE}
EXPECTED_MODE = {EXPERT_LED: EXPERT_LED, CLIENT_LED: CLIENT_LED}
# Flags a family's story makes true from its start (not false alarms, whenever they are raised).
TRUE_FROM_START = {EXPERT_LED: {ONE_SIDED}, CLIENT_LED: {ONE_SIDED}}

FIRST_NIGHT = dt.date(2025, 3, 3)
MIN_DAYS = 120

CONSULTATIVE_FOCUSES = ("strategy", "positioning", "advisory", "co_creation")
OTHER_FOCUSES = ("kpi_review", "reporting", "operational", "admin")
READOUT_FOCUSES = ("kpi_review", "reporting")
KPI_NAMES = (("Customer satisfaction", "/10", "up"), ("Cost to serve", "€", "down"), ("Conversion rate", "%", "up"),
             ("Lead time", "days", "down"), ("Net revenue retention", "%", "up"), ("Churn", "%", "down"),
             ("Share of wallet", "%", "up"), ("First-contact resolution", "%", "up"))


@dataclass(frozen=True)
class Label:
    """What the story says happened: the truth the engine's flags are judged against."""

    key: str
    family: str
    start: dt.date
    planned_cadence_days: int
    onset: dt.date | None = None          # the slide begins (slide families)
    recovered_on: dt.date | None = None   # the relationship is healthy again (recovery)
    expected_mode: str | None = None      # expert-led / client-led families
    breaks: tuple[tuple[dt.date, dt.date], ...] = ()   # planned breaks marked in advance
    sponsor_changes: tuple[dt.date, ...] = ()

    @property
    def relevant_kind(self) -> str | None:
        return RELEVANT_KIND.get(self.family)


@dataclass(frozen=True)
class Style:
    """How the two sides work together during a phase. Probabilities are per session/milestone."""

    interval: float                 # mean days between sessions
    consultative: float             # a session is consultative work
    advice: float                   # the client asks our view, in a consultative session
    advice_other: float             # … in any other session
    client_initiates: float
    minutes_consultative: float
    minutes_other: float
    kpis_in_other: float            # KPIs discussed in a non-consultative session
    sponsor_attends: float
    milestone_every: float          # mean days between new milestones
    client_proposes: float
    client_comments: float
    client_approves: float
    rating: float                   # the client's mean monthly rating (1–5)
    readout: bool = False           # every session is a KPI read-out (KPIs discussed, short)
    optimistic_labels: float = 0.0  # share of those read-outs the consultant labels "advisory"
    stopped: bool = False           # no more sessions at all
    wander: float = 1.0             # how much the slow month-to-month wander moves `consultative`

    def blend(self, other: Style, t: float) -> Style:
        """The style ``t`` of the way (0–1) from this one to ``other`` (booleans switch half-way)."""
        values = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = (b if t >= 0.5 else a) if isinstance(a, bool) else a + (b - a) * t
        return Style(**values)


@dataclass(frozen=True)
class Phase:
    start: dt.date
    style: Style
    until: dt.date | None = None    # with ``towards``: blend linearly to it by this date
    towards: Style | None = None

    def style_on(self, day: dt.date) -> Style:
        if self.towards is None or self.until is None:
            return self.style
        span = max(1, (self.until - self.start).days)
        return self.style.blend(self.towards, min(1.0, max(0.0, (day - self.start).days / span)))


@dataclass(frozen=True)
class Event:
    day: dt.date
    minute: int    # minutes after local midnight: the time, and the order within a day
    seq: int       # tie-break: the order the story produced them in
    kind: str
    data: dict

    @property
    def sort_key(self):
        return (self.day, self.minute, self.seq)


@dataclass
class Story:
    label: Label
    contacts: dict[str, tuple[str, str]]   # key -> (name, seniority)
    first_sponsor_since: dt.date
    events: list[Event] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.label.key

    def sessions(self) -> list[Event]:
        return [e for e in self.events if e.kind == "session"]


# --- The portfolio ---------------------------------------------------------------------------

def family_counts(engagements: int) -> dict[str, int]:
    """How many engagements of each family: the shares of FAMILIES scaled, at least one each."""
    if engagements < len(FAMILIES):
        raise ValueError(f"A portfolio needs at least {len(FAMILIES)} engagements (one per family).")
    total = sum(share for _name, share, _title in FAMILIES)
    exact = {name: engagements * share / total for name, share, _title in FAMILIES}
    counts = {name: max(1, int(value)) for name, value in exact.items()}
    # Largest remainders first (then the family order) until the total is right.
    order = sorted(exact, key=lambda name: (-(exact[name] - int(exact[name])), FAMILY_NAMES.index(name)))
    i = 0
    while sum(counts.values()) < engagements:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts.values()) > engagements:
        name = max((n for n in counts if counts[n] > 1), key=lambda n: (counts[n], -FAMILY_NAMES.index(n)))
        counts[name] -= 1
    return counts


def portfolio(*, seed: int, engagements: int, days: int, first_night: dt.date = FIRST_NIGHT) -> list[Story]:
    """The labelled portfolio for a seed: ``engagements`` stories over ``days`` replayed nights."""
    return [story for _writer, story in written(seed=seed, engagements=engagements, days=days,
                                                 first_night=first_night)]


def written(*, seed: int, engagements: int, days: int,
            first_night: dt.date = FIRST_NIGHT) -> list[tuple[_Writer, Story]]:
    """``portfolio``, each story with the writer that drew it (its parameters and phases:
    ``health.evaluation.oracle`` weighs the sessions by them)."""
    if days < MIN_DAYS:
        raise ValueError(f"The replay needs at least {MIN_DAYS} nights for the slides to unfold.")
    last_night = first_night + dt.timedelta(days=days - 1)
    out = []
    for family, count in family_counts(engagements).items():
        for n in range(count):
            rng = random.Random(f"rapport-eval:{seed}:{family}:{n}")  # noqa: S311 (synthetic data, not security)
            writer = _Writer(rng, f"{family}-{n + 1:02d}", first_night, last_night)
            out.append((writer, _BUILDERS[family](writer, n)))
    return out


# --- One story -------------------------------------------------------------------------------

def _between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    """A day drawn uniformly between two dates (``lo`` when the range is empty)."""
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _workday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)


def _clip(value: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, value))


def _round5(value: float, lo: int, hi: int) -> int:
    return int(_clip(5 * round(value / 5), lo, hi))


class _Writer:
    """Draws one engagement's parameters and writes its events."""

    def __init__(self, rng: random.Random, key: str, first_night: dt.date, last_night: dt.date):
        self.rng, self.key = rng, key
        self.first_night, self.last_night = first_night, last_night
        r = rng
        self.cadence = r.choice([7, 7, 10, 14, 14, 14, 21])
        self.cv = r.uniform(0.2, 0.4)   # how irregular the meeting rhythm is
        self.on_time = r.uniform(0.75, 0.95)
        self.self_rating_offset = r.uniform(-0.1, 0.3)
        self.missed_feedback = r.uniform(0.05, 0.2)
        self.consultative_weights = [r.uniform(1, 3), r.uniform(0.5, 2), r.uniform(1, 3), r.uniform(0.5, 3)]
        self.other_weights = [r.uniform(1, 3), r.uniform(1, 2), r.uniform(1, 3), r.uniform(0.2, 1)]
        self.base = Style(
            interval=self.cadence * r.uniform(0.85, 1.1), consultative=r.uniform(0.6, 0.88),
            advice=r.uniform(0.35, 0.75), advice_other=r.uniform(0.05, 0.2), client_initiates=r.uniform(0.3, 0.65),
            minutes_consultative=r.uniform(60, 100), minutes_other=r.uniform(35, 60), kpis_in_other=r.uniform(0.4, 0.8),
            sponsor_attends=r.uniform(0.4, 0.9), milestone_every=r.uniform(20, 45),
            client_proposes=r.uniform(0.25, 0.6),
            client_comments=r.uniform(0.3, 0.65), client_approves=r.uniform(0.4, 0.8), rating=r.uniform(4.2, 4.8),
        )
        self.contacts = {"exec0": (f"{key} sponsor", "executive"), "mgr": (f"{key} manager", "manager"),
                         "staff": (f"{key} analyst", "staff"), "exec1": (f"{key} new executive", "executive")}
        self.kpis: dict[str, dict] = {}
        self.sponsors: list[tuple[dt.date, str]] = [(dt.date.min, "exec0")]
        self.off: list[tuple[dt.date, dt.date]] = []     # holidays and planned breaks: nobody meets
        self.marked: list[tuple[dt.date, dt.date]] = []
        self.events: list[Event] = []
        self.wander: dict[int, float] = {}
        self.phases: list[Phase] = []

    # Parameters of the story --------------------------------------------------------------

    def mature_start(self) -> dt.date:
        return self.first_night - dt.timedelta(days=self.rng.randint(280, 420))

    def transactional(self, *, consultative: tuple[float, float] = (0.0, 0.15)) -> Style:
        """The same relationship once it has slid: KPI read-outs, no advice asked, short sessions."""
        r, b = self.rng, self.base
        return dataclasses.replace(
            b, interval=b.interval * r.uniform(0.8, 1.3), consultative=r.uniform(*consultative),
            advice=r.uniform(0.0, 0.15), advice_other=r.uniform(0.0, 0.04),
            client_initiates=b.client_initiates * r.uniform(0.3, 1.0), minutes_other=r.uniform(25, 45),
            kpis_in_other=r.uniform(0.7, 1.0), client_proposes=b.client_proposes * r.uniform(0.1, 0.5),
            client_comments=b.client_comments * r.uniform(0.3, 0.8),
            client_approves=b.client_approves * r.uniform(0.3, 0.8), rating=b.rating - r.uniform(0.0, 0.9),
            wander=0.0)

    def readouts(self) -> Style:
        """Every session a KPI read-out with KPIs discussed, the client no longer asking our view,
        while the consultant still labels about half of them "advisory"."""
        r, b = self.rng, self.base
        return dataclasses.replace(
            b, readout=True, optimistic_labels=r.uniform(0.4, 0.6), advice=0.0, advice_other=0.0,
            minutes_other=r.uniform(25, 45), client_initiates=b.client_initiates * r.uniform(0.2, 0.7),
            client_proposes=b.client_proposes * r.uniform(0.2, 0.6), wander=0.0)

    def holidays(self, start: dt.date) -> None:
        """Summer and Christmas holidays most years, the odd week off: unannounced, nobody meets."""
        r = self.rng
        for year in range(start.year - 1, self.last_night.year + 1):
            if r.random() < 0.85:
                first = dt.date(year, 7, 1) + dt.timedelta(days=r.randint(0, 40))
                self.off.append((first, first + dt.timedelta(days=r.randint(14, 28) - 1)))
            if r.random() < 0.9:
                first = dt.date(year, 12, 19) + dt.timedelta(days=r.randint(0, 5))
                self.off.append((first, first + dt.timedelta(days=r.randint(10, 16) - 1)))
            if r.random() < 0.35:
                first = dt.date(year, 3, 1) + dt.timedelta(days=r.randint(0, 80))
                self.off.append((first, first + dt.timedelta(days=r.randint(7, 14) - 1)))

    def planned_break(self, lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date]:
        """A budget freeze or a client's request, 4–8 weeks, marked in the app 1–3 weeks ahead."""
        r = self.rng
        first = _between(r, lo, hi)
        last = first + dt.timedelta(days=r.randint(28, 56) - 1)
        first, last = self._clear_of_holidays(first, last)
        self.off.append((first, last))
        self.marked.append((first, last))
        self.emit(first - dt.timedelta(days=r.randint(7, 21)), 8 * 60, "planned_break",
                  starts_on=first, ends_on=last, reason=r.choice(["budget_freeze", "client_request"]))
        return first, last

    def _clear_of_holidays(self, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
        """Drop the holidays that touch a planned break (a break is marked for the whole pause)."""
        margin = dt.timedelta(days=7)
        touching = [(a, b) for a, b in self.off if a <= last + margin and b >= first - margin]
        for period in touching:
            self.off.remove(period)
        return first, last

    def sponsor_change(self, day: dt.date) -> None:
        self.sponsors.append((day, "exec1"))
        self.emit(day, 8 * 60, "sponsor", contact="exec1")

    # Events -----------------------------------------------------------------------------------

    def emit(self, day: dt.date, minute: int, kind: str, **data) -> None:
        if day <= self.last_night:
            self.events.append(Event(day, minute, len(self.events), kind, data))

    def is_off(self, day: dt.date) -> tuple[dt.date, dt.date] | None:
        return next(((a, b) for a, b in self.off if a <= day <= b), None)

    def sponsor_on(self, day: dt.date) -> str:
        return [key for since, key in self.sponsors if since <= day][-1]

    def consultative_on(self, style: Style, day: dt.date) -> float:
        """The phase's consultative share plus a slow month-to-month wander (AR(1), sd about 0.06)."""
        month = (day.year * 12 + day.month)
        if month not in self.wander:
            previous = self.wander.get(month - 1, self.rng.gauss(0, 0.05))
            self.wander[month] = 0.6 * previous + self.rng.gauss(0, 0.05)
        return _clip(style.consultative + style.wander * self.wander[month], 0.0, 0.95)

    def add_kpi(self, day: dt.date, key: str) -> None:
        r = self.rng
        name, unit, direction = KPI_NAMES[len(self.kpis) % len(KPI_NAMES)]
        start = r.uniform(40, 80)
        target = start * (r.uniform(1.05, 1.3) if direction == "up" else r.uniform(0.7, 0.95))
        self.kpis[key] = {"since": day, "until": None, "value": start, "target": target, "direction": direction}
        self.emit(day, 7 * 60, "kpi", key=key, name=name, unit=unit, target=round(target, 2), direction=direction)

    def active_kpis(self, day: dt.date) -> list[str]:
        return [k for k, v in self.kpis.items() if v["since"] <= day and (v["until"] is None or day < v["until"])]

    def write(self, start: dt.date, phases: Sequence[Phase]) -> None:
        """Sessions, milestones, feedback and KPI values from ``start`` to the last night."""
        phases = sorted(phases, key=lambda p: p.start)
        self.phases = phases  # kept for health.evaluation.oracle (``written``)

        def style(day: dt.date) -> Style:
            begun = [p for p in phases if p.start <= day]
            return (begun[-1] if begun else phases[0]).style_on(day)

        self._sessions(start, style)
        self._milestones(start, style)
        self._feedback(start, style)
        self._kpi_values(start)

    def _sessions(self, start: dt.date, style: Callable[[dt.date], Style]) -> None:
        r = self.rng
        day = start + dt.timedelta(days=r.randint(1, 6))
        next_review = start + dt.timedelta(days=r.randint(60, 100))
        while day <= self.last_night:
            off = self.is_off(day)
            if off:
                day = off[1] + dt.timedelta(days=r.randint(1, 5))
                continue
            day = _workday(day)
            if self.is_off(day):
                continue
            s = style(day)
            if s.stopped:
                day += dt.timedelta(days=7)
                continue
            kpis = self.active_kpis(day)
            if s.readout:
                focus = "advisory" if r.random() < s.optimistic_labels else r.choice(READOUT_FOCUSES)
                minutes = _round5(r.gauss(s.minutes_other, 8), 15, 75)
                discussed = r.sample(kpis, k=r.randint(max(1, len(kpis) - 1), len(kpis))) if kpis else []
                advice = r.random() < s.advice_other
                next_review = day + dt.timedelta(days=r.randint(80, 100))  # a read-out is a review too
            elif day >= next_review:
                next_review = day + dt.timedelta(days=r.randint(80, 100))
                focus, minutes, discussed = "kpi_review", _round5(r.gauss(s.minutes_other, 10), 20, 120), kpis
                advice = r.random() < s.advice_other
            elif r.random() < self.consultative_on(s, day):
                focus = r.choices(CONSULTATIVE_FOCUSES, self.consultative_weights)[0]
                minutes = _round5(r.gauss(s.minutes_consultative, 15), 30, 180)
                discussed = r.sample(kpis, k=1) if kpis and r.random() < 0.15 else []
                advice = r.random() < s.advice
            else:
                focus = r.choices(OTHER_FOCUSES, self.other_weights)[0]
                minutes = _round5(r.gauss(s.minutes_other, 10), 15, 120)
                if focus == "kpi_review":
                    discussed = kpis
                elif kpis and r.random() < s.kpis_in_other:
                    discussed = r.sample(kpis, k=r.randint(1, len(kpis)))
                else:
                    discussed = []
                advice = r.random() < s.advice_other
            attendees = [self.sponsor_on(day)] if r.random() < s.sponsor_attends else []
            if r.random() < 0.7:
                attendees.append(r.choice(["mgr", "staff"]))
            self.emit(day, r.choice([9, 10, 11, 14, 15, 16]) * 60, "session", focus=focus, minutes=minutes,
                      initiated_by="client" if r.random() < s.client_initiates else "consultant",
                      advice=advice, attendees=attendees, kpis=sorted(discussed),
                      channel=r.choice(["meeting", "video", "call"]), sentiment=r.choice([3, 4, 4, 5]))
            day += dt.timedelta(days=max(2, round(r.gauss(s.interval, s.interval * self.cv))))

    def _milestones(self, start: dt.date, style: Callable[[dt.date], Style]) -> None:
        r = self.rng
        day = start + dt.timedelta(days=r.randint(3, 15))
        n = 0
        while day <= self.last_night:
            off = self.is_off(day)
            if off:
                day = off[1] + dt.timedelta(days=r.randint(2, 8))
                continue
            day = _workday(day)
            s = style(day)
            key = f"m{n}"
            n += 1
            due = day + dt.timedelta(days=r.choice([14, 21, 30, 45]))
            by_client = r.random() < s.client_proposes
            # The consultants ask the client to approve their milestones; the client does or not.
            approved = not by_client and r.random() < s.client_approves
            self.emit(day, 11 * 60, "milestone", key=key, by_client=by_client, due=due)
            if by_client:
                self.emit(_workday(day + dt.timedelta(days=1)), 9 * 60, "milestone_agree", key=key)
            elif approved:
                self.emit(day + dt.timedelta(days=r.randint(1, 6)), 13 * 60, "approve", key=key)
            for j in range(r.randint(0, 3)):
                self.emit(day + dt.timedelta(days=1 + 2 * j + r.randint(0, 1)), 12 * 60 + j, "comment", key=key,
                          side="client" if r.random() < s.client_comments else "consultant")
            done = (due - dt.timedelta(days=r.randint(0, 5)) if r.random() < self.on_time
                    else due + dt.timedelta(days=r.randint(3, 20)))
            self.emit(max(done, day + dt.timedelta(days=3)), 16 * 60, "milestone_done", key=key)
            day += dt.timedelta(days=max(7, round(r.gauss(s.milestone_every, s.milestone_every / 4))))

    def _feedback(self, start: dt.date, style: Callable[[dt.date], Style]) -> None:
        """A pulse a month from the sponsor (the odd month missed), and the lead's self-assessment."""
        r = self.rng
        day_of_month = r.randint(3, 25)
        year, month = start.year, start.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            day = _workday(dt.date(year, month, day_of_month))
            if day > self.last_night:
                break
            if r.random() < self.missed_feedback or any(a <= day <= b for a, b in self.marked):
                continue
            s = style(day)
            rating = int(_clip(round(r.gauss(s.rating, 0.45)), 1, 5))
            self.emit(day, 17 * 60, "feedback", side="client", rating=rating, contact=self.sponsor_on(day))
            self_rating = int(_clip(round(r.gauss(self.base.rating + self.self_rating_offset, 0.4)), 1, 5))
            self.emit(day, 18 * 60, "feedback", side="consultant", rating=self_rating)

    def _kpi_values(self, start: dt.date) -> None:
        """Each live KPI measured on the first working day of each month, drifting towards its target."""
        r = self.rng
        year, month = start.year, start.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            day = _workday(dt.date(year, month, 1))
            if day > self.last_night:
                break
            for key in self.active_kpis(day):
                kpi = self.kpis[key]
                kpi["value"] += (kpi["target"] - kpi["value"]) * r.uniform(0.0, 0.15) + r.gauss(0, 0.02 * kpi["value"])
                self.emit(day, 8 * 60 + 1, "kpi_value", key=key, value=round(kpi["value"], 2))

    def story(self, family: str, start: dt.date, **label) -> Story:
        self.events.sort(key=lambda e: e.sort_key)
        events = [dataclasses.replace(e, seq=i) for i, e in enumerate(self.events)]
        return Story(
            label=Label(key=self.key, family=family, start=start, planned_cadence_days=self.cadence,
                        breaks=tuple(self.marked), sponsor_changes=tuple(d for d, _k in self.sponsors[1:]), **label),
            contacts=self.contacts, first_sponsor_since=start - dt.timedelta(days=self.rng.randint(30, 400)),
            events=events)


# --- The families ----------------------------------------------------------------------------

def _begin(w: _Writer, start: dt.date) -> None:
    w.holidays(start)
    for n in range(w.rng.randint(2, 4)):
        w.add_kpi(start, f"k{n}")


def _healthy(w: _Writer, n: int) -> Story:
    """Ordinary noise only. The first control of a portfolio marks a planned break; the second sees
    its sponsor change without anything else changing; the third has a busy operational stretch
    (3–6 weeks of more operational sessions, the client still asking our view and taking the
    initiative as before: a phase of the work, not a slide); beyond, each may have any of these."""
    start = w.mature_start()
    _begin(w, start)
    r = w.rng
    if n == 0 or (n >= 3 and r.random() < 0.25):
        w.planned_break(w.first_night + dt.timedelta(days=20), w.last_night - dt.timedelta(days=70))
    if n == 1 or (n >= 3 and r.random() < 0.2):
        w.sponsor_change(_between(r, w.first_night + dt.timedelta(days=20), w.last_night - dt.timedelta(days=30)))
    phases = [Phase(start, w.base)]
    if n == 2 or (n >= 3 and r.random() < 0.3):
        busy = _between(r, w.first_night, w.last_night - dt.timedelta(days=45))
        phases += [Phase(busy, dataclasses.replace(w.base, consultative=r.uniform(0.4, 0.55), wander=0.0)),
                   Phase(busy + dt.timedelta(days=r.randint(21, 42)), w.base)]
    w.write(start, phases)
    return w.story("healthy", start)


def _young(w: _Writer, _n: int) -> Story:
    days = (w.last_night - w.first_night).days
    start = w.first_night + dt.timedelta(days=w.rng.randint(5, max(6, int(days * 0.35))))
    _begin(w, start)
    w.write(start, [Phase(start, w.base)])
    return w.story("young", start)


def _sudden_sponsor(w: _Writer, _n: int) -> Story:
    """A new sponsor arrives; within days sessions become short KPI read-outs, nobody asks our view,
    and the new sponsor brings KPIs of their own (some old ones are no longer measured)."""
    r = w.rng
    start = w.mature_start()
    _begin(w, start)
    onset = _between(r, w.first_night + dt.timedelta(days=45), w.last_night - dt.timedelta(days=60))
    w.sponsor_change(onset)
    slid = onset + dt.timedelta(days=r.randint(0, 10))
    for key in list(w.kpis):
        if r.random() < 0.5:
            w.kpis[key]["until"] = slid
    for n in range(r.randint(1, 2)):
        w.add_kpi(slid, f"k{len(w.kpis) + n}")
    after = dataclasses.replace(w.transactional(), sponsor_attends=r.uniform(0.5, 0.9))
    w.write(start, [Phase(start, w.base), Phase(slid, after)])
    return w.story("sudden_sponsor", start, onset=onset)


def _gradual(w: _Writer, _n: int) -> Story:
    """Month after month a little less consultative, until the relationship is transactional (~5 months)."""
    r = w.rng
    start = w.mature_start()
    _begin(w, start)
    days = (w.last_night - w.first_night).days
    onset = _between(r, w.first_night + dt.timedelta(days=15),
                     w.first_night + dt.timedelta(days=max(15, min(70, days - 150))))
    until = onset + dt.timedelta(days=r.randint(120, 170))
    w.write(start, [Phase(start, w.base),
                    Phase(onset, w.base, until=until, towards=w.transactional(consultative=(0.05, 0.25)))])
    return w.story("gradual", start, onset=onset)


def _kpi_pattern(w: _Writer, _n: int) -> Story:
    r = w.rng
    start = w.mature_start()
    _begin(w, start)
    onset = _between(r, w.first_night + dt.timedelta(days=45), w.last_night - dt.timedelta(days=75))
    w.write(start, [Phase(start, w.base), Phase(onset, w.readouts())])
    return w.story("kpi_pattern", start, onset=onset)


def _cadence_drop(w: _Writer, _n: int) -> Story:
    """Same conversations, far fewer of them: the rhythm stretches 3–6 times, or the sessions stop."""
    r = w.rng
    start = w.mature_start()
    _begin(w, start)
    onset = _between(r, w.first_night + dt.timedelta(days=45), w.last_night - dt.timedelta(days=50))
    after = (dataclasses.replace(w.base, stopped=True) if r.random() < 0.35
             else dataclasses.replace(w.base, interval=w.base.interval * r.uniform(3, 6)))
    w.write(start, [Phase(start, w.base), Phase(onset, after)])
    return w.story("cadence_drop", start, onset=onset)


def _recovery(w: _Writer, _n: int) -> Story:
    """A slide (KPI read-outs, or plainly transactional) for 7–11 weeks, then a repair: back to
    consultative work, the client asking our view again. The rhythm is weekly to fortnightly, so
    the slide is at least four or five sessions long: a slide of two monthly meetings would be
    no established slide to catch, nor a flag to resolve."""
    r = w.rng
    w.cadence = r.choice([7, 10, 14])
    w.base = dataclasses.replace(w.base, interval=w.cadence * r.uniform(0.85, 1.1))
    start = w.mature_start()
    _begin(w, start)
    onset = _between(r, w.first_night + dt.timedelta(days=25), w.last_night - dt.timedelta(days=190))
    recovered = onset + dt.timedelta(days=r.randint(50, 80))
    slide = w.readouts() if r.random() < 0.5 else w.transactional()
    repaired = dataclasses.replace(w.base, consultative=max(w.base.consultative, r.uniform(0.7, 0.9)),
                                   advice=max(w.base.advice, r.uniform(0.5, 0.8)))
    w.write(start, [Phase(start, w.base), Phase(onset, slide), Phase(recovered, repaired)])
    return w.story("recovery", start, onset=onset, recovered_on=recovered)


def _expert_led(w: _Writer, _n: int) -> Story:
    """We lead everything: the client rarely asks for a session, proposes, comments or approves."""
    r = w.rng
    w.base = dataclasses.replace(w.base, client_initiates=r.uniform(0.0, 0.1), client_proposes=r.uniform(0.0, 0.05),
                                 client_comments=r.uniform(0.0, 0.1), client_approves=r.uniform(0.0, 0.1))
    start = w.mature_start()
    _begin(w, start)
    w.write(start, [Phase(start, w.base)])
    return w.story(EXPERT_LED, start, expected_mode=EXPERT_LED)


def _client_led(w: _Writer, _n: int) -> Story:
    """The client dictates: asks for nearly every session, proposes the milestones, comments, approves."""
    r = w.rng
    w.base = dataclasses.replace(w.base, client_initiates=r.uniform(0.88, 1.0), client_proposes=r.uniform(0.85, 1.0),
                                 client_comments=r.uniform(0.85, 1.0), client_approves=r.uniform(0.8, 1.0),
                                 consultative=r.uniform(0.3, 0.7))
    start = w.mature_start()
    _begin(w, start)
    w.write(start, [Phase(start, w.base)])
    return w.story(CLIENT_LED, start, expected_mode=CLIENT_LED)


_BUILDERS: dict[str, Callable[[_Writer, int], Story]] = {
    "sudden_sponsor": _sudden_sponsor, "gradual": _gradual, "kpi_pattern": _kpi_pattern,
    "cadence_drop": _cadence_drop, "recovery": _recovery, "young": _young, EXPERT_LED: _expert_led,
    CLIENT_LED: _client_led, "healthy": _healthy,
}
