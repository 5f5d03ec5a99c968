"""How early could ANY detector see a slide in the evaluation's stories? An oracle's answer.

The health engine's evaluation (``manage.py evaluate_health``) misses some of #16's targets (the
gradual slide within 60 days, KPI read-outs within 30, …). Is that the rules, or the stories?
This script answers with an *oracle*: a detector that knows, for every engagement, the exact
parameters the story drew (how often its sessions are consultative, how long they last, how often
the client asks our view or takes the initiative) and the exact shape the slide would take (its
style after the slide; for the gradual family, the linear blend and its length). It weighs each
session by its exact likelihood ratio, slide against no slide, which no real detector can do
(it must estimate the before from a baseline and guess the after). For a change whose before and
after are known, Page's CUSUM has the shortest worst-case delay at a given false-alarm rate
(Lorden); the Shiryaev-Roberts sum, optimal on average, gives nearly the same figures here
(``--shiryaev-roberts``). So a detector reading the same data cannot expect to do much better.

What the oracle does not know: the healthy stories' noise events (a busy operational stretch, the
slow month-to-month wander of the consultative share, the quarterly KPI reviews), exactly as a
real detector does not. It reads only the sessions (focus, length, advice asked, initiative, KPIs
discussed); the milestones and ratings were measured to add little (docs/health.md).

For each slide family, the level is set so that the oracle raises 0.1 false alarms per
engagement-year on the healthy nights (the evaluation's definition: healthy controls and young
engagements, and every slide engagement before its onset), pooled over many seeds; then its
latency on that family's slides is read off. A family's oracle gets the whole 0.1 on its own,
where the engine must share it between all its tests: the oracle's figures are a bound, and
generous.

Run:  python -m health.evaluation.oracle [--seeds 1-40] [--rate 0.1] [--everything] [--shiryaev-roberts]
Pure Python on the stories (no database, no Django): about a minute for forty seeds reading the
sessions, several with --everything.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import datetime as dt
import math
import random
import statistics
from collections import defaultdict

from health.evaluation import metrics
from health.evaluation import stories as st

EPS = 1e-3
DAYS = 240
ENGAGEMENTS = 40


def _normal_logpdf(x: float, mean: float, sd: float) -> float:
    return -0.5 * ((x - mean) / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi))


def _bern(hit: bool, p: float) -> float:
    p = min(1 - EPS, max(EPS, p))
    return math.log(p if hit else 1 - p)


def session_loglik(e: st.Event, s: st.Style, w, has_kpis: bool) -> float:
    """log P(this session | the style), as the story draws sessions (rounding and clipping aside)."""
    d = e.data
    focus, minutes, discussed = d["focus"], d["minutes"], bool(d["kpis"])
    ll = _bern(d["initiated_by"] == "client", s.client_initiates)
    if s.readout:
        opt = s.optimistic_labels
        if focus == "advisory":
            pf = opt
        elif focus in st.READOUT_FOCUSES:
            pf = (1 - opt) / len(st.READOUT_FOCUSES)
        else:
            pf = 0.0
        ll += math.log(max(EPS, pf))
        ll += _normal_logpdf(minutes, s.minutes_other, 8)
        ll += _bern(d["advice"], s.advice_other)
        if has_kpis:
            ll += _bern(discussed, 1.0)
        return ll
    c = min(0.95, max(0.0, s.consultative))
    if focus in st.CONSULTATIVE_FOCUSES:
        focuses, weights, share, mean, sd, advice = (st.CONSULTATIVE_FOCUSES, w.consultative_weights, c,
                                                     s.minutes_consultative, 15, s.advice)
        kpis = 0.15
    else:
        focuses, weights, share, mean, sd, advice = (st.OTHER_FOCUSES, w.other_weights, 1 - c,
                                                     s.minutes_other, 10, s.advice_other)
        kpis = None if focus == "kpi_review" else s.kpis_in_other  # a review discusses every KPI
    ll += math.log(max(EPS, share * weights[focuses.index(focus)] / sum(weights)))
    ll += _normal_logpdf(minutes, mean, sd)
    ll += _bern(d["advice"], advice)
    if has_kpis and kpis is not None:
        ll += _bern(discussed, kpis)
    return ll


def _rating_loglik(rating: int, mean: float) -> float:
    """log P(the client's monthly rating | its mean): a normal of spread 0.45, rounded, clipped to 1-5."""
    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((x - mean) / (0.45 * math.sqrt(2))))
    lo = -math.inf if rating <= 1 else rating - 0.5
    hi = math.inf if rating >= 5 else rating + 0.5
    return math.log(max(EPS, cdf(hi) - cdf(lo)))


def event_loglik(e: st.Event, s: st.Style, w, has_kpis: bool, approved: set[str]) -> float | None:
    """log P(this event | the style) for every event the style shapes; None for the others."""
    if e.kind == "session":
        return session_loglik(e, s, w, has_kpis)
    d = e.data
    if e.kind == "milestone":
        ll = _bern(d["by_client"], s.client_proposes)
        if not d["by_client"]:
            ll += _bern(d["key"] in approved, s.client_approves)
        return ll
    if e.kind == "comment":
        return _bern(d["side"] == "client", s.client_comments)
    if e.kind == "feedback" and d["side"] == "client":
        return _rating_loglik(d["rating"], s.rating)
    return None


@dataclasses.dataclass
class Drawn:
    story: st.Story
    writer: object
    healthy_nights: int   # nights on which a drift flag would be a false alarm (metrics' definition)

    @property
    def base(self) -> st.Style:
        return self.writer.phases[0].style


def draw(seed: int) -> list[Drawn]:
    """The portfolio of a seed as ``evaluate_health`` replays it, with each story's writer."""
    nights = [st.FIRST_NIGHT + dt.timedelta(days=n) for n in range(DAYS)]
    return [Drawn(story, writer, sum(1 for night in nights if metrics._healthy_night(story.label, st.DRIFT, night)))
            for writer, story in st.written(seed=seed, engagements=ENGAGEMENTS, days=DAYS)]


def alternative(d: Drawn, family: str, seed: int):
    """The slide the oracle looks for on this engagement: its own, or one drawn like it."""
    label = d.story.label
    if label.family == family:
        slide = d.writer.phases[1]
        if family == "gradual":
            return slide.towards, (slide.until - slide.start).days
        return slide.style, 0
    w = d.writer
    saved, w.rng = w.rng, random.Random(f"oracle:{seed}:{label.key}:{family}")  # noqa: S311
    try:
        if family == "gradual":
            return w.transactional(consultative=(0.05, 0.25)), w.rng.randint(120, 170)
        if family == "kpi_pattern":
            return w.readouts(), 0
        return w.transactional(), 0
    finally:
        w.rng = saved


def evidence(d: Drawn, family: str, seed: int, everything: bool) -> list[tuple[dt.date, list[float]]]:
    """Each event the oracle weighs, as (day, its log-likelihood ratio under each candidate change
    point, oldest candidate first). A step change (sudden slide, KPI read-outs) has one ratio per
    event, whatever the change point; the gradual slide one per change point (each candidate is the
    day of an earlier event, or this one), the blend being that far along by then."""
    after, span = alternative(d, family, seed)
    base, w = d.base, d.writer
    kpi_days = sorted(k["since"] for k in w.kpis.values())
    approved = {e.data["key"] for e in d.story.events if e.kind == "approve"}
    out: list[tuple[dt.date, list[float]]] = []
    for e in (d.story.events if everything else d.story.sessions()):
        has_kpis = bisect.bisect_right(kpi_days, e.day) > 0
        ll0 = event_loglik(e, base, w, has_kpis, approved)
        if ll0 is None:
            continue
        if span:
            taus = [day for day, _ in out] + [e.day]
            out.append((e.day, [event_loglik(e, base.blend(after, min(1.0, (e.day - tau).days / span)), w, has_kpis,
                                             approved) - ll0 for tau in taus]))
        else:
            out.append((e.day, [event_loglik(e, after, w, has_kpis, approved) - ll0]))
    return out


_EVIDENCE: dict[tuple, list] = {}


def alarms(d: Drawn, family: str, seed: int, level: float, everything: bool = False,
           summed: bool = False) -> list[dt.date]:
    """The days the oracle raises: Page's CUSUM for a step change, its generalisation (the best
    change point, each with the blend since it) for the gradual slide; restarted after each alarm.
    ``everything``: milestones, comments, approvals and the client's ratings weigh too, not only sessions.
    ``summed``: the evidence summed over the change points (Shiryaev-Roberts), not the best one."""
    key = (seed, d.story.key, family, everything)
    if key not in _EVIDENCE:
        _EVIDENCE[key] = evidence(d, family, seed, everything)
    table = _EVIDENCE[key]
    gradual = family == "gradual"
    out: list[dt.date] = []
    sums: dict[int, float] = {}
    cusum = 0.0
    for j, (day, ratios) in enumerate(table):
        if gradual or summed:
            sums[j] = 0.0
            for i in list(sums):
                if (day - table[i][0]).days > 340:
                    del sums[i]
                else:
                    sums[i] += ratios[i] if gradual else ratios[0]
            if summed:
                top = max(sums.values())
                stat = top + math.log(sum(math.exp(v - top) for v in sums.values()))
            else:
                stat = max(sums.values())
        else:
            cusum = max(0.0, cusum + ratios[0])
            stat = cusum
        if stat >= level and day >= st.FIRST_NIGHT:
            out.append(day)
            sums, cusum = {}, 0.0
    return out


def evaluate(portfolios: dict[int, list[Drawn]], family: str, level: float, everything: bool = False,
             summed: bool = False):
    """False alarms per engagement-year on healthy nights; per seed, the latencies, slides caught and slides."""
    false, nights, latencies = 0, 0, defaultdict(list)
    caught, total = defaultdict(int), defaultdict(int)
    for seed, drawn in portfolios.items():
        for d in drawn:
            label = d.story.label
            days = alarms(d, family, seed, level, everything, summed)
            nights += d.healthy_nights
            false += sum(1 for day in days if label.onset is None or day < label.onset)
            if label.family == family:
                total[seed] += 1
                after = [day for day in days if day >= label.onset]
                if after:
                    caught[seed] += 1
                    latencies[seed].append((after[0] - label.onset).days)
    return false / (nights / 365), latencies, caught, total


def calibrate(portfolios, family: str, rate: float, everything: bool = False, summed: bool = False) -> float:
    """The lowest level (to 0.003 nats, bisecting 0.5-40) whose false alarms stay within ``rate``."""
    lo, hi = 0.5, 40.0
    for _ in range(14):
        mid = (lo + hi) / 2
        if evaluate(portfolios, family, mid, everything, summed)[0] > rate:
            lo = mid
        else:
            hi = mid
    return hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-40", help="a range, e.g. 1-40 (default)")
    parser.add_argument("--rate", type=float, default=0.1, help="false alarms per engagement-year (0.1)")
    parser.add_argument("--families", default="gradual,kpi_pattern,sudden_sponsor")
    parser.add_argument("--everything", action="store_true",
                        help="weigh milestones, comments, approvals and ratings as well as sessions")
    parser.add_argument("--shiryaev-roberts", action="store_true",
                        help="sum the evidence over change points (Shiryaev-Roberts), not the best one (CUSUM)")
    args = parser.parse_args()
    summed = args.shiryaev_roberts
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    portfolios = {seed: draw(seed) for seed in seeds}
    targets = {"gradual": 60, "kpi_pattern": 30, "sudden_sponsor": 21}
    print(f"Oracle on seeds {args.seeds} ({len(seeds)} portfolios of {ENGAGEMENTS}, {DAYS} nights), "
          f"level set for {args.rate} false alarms per engagement-year; "
          f"reading {'every event the story shapes' if args.everything else 'the sessions'}; "
          f"{'Shiryaev-Roberts' if summed else 'CUSUM'}\n")
    print("| slide family | level (nats) | false alarms / eng-year | caught | latency median / p90 / max (days) "
          "| seeds meeting the median target | median on seeds 1-4 |")
    print("|---|---:|---:|---:|---|---:|---|")
    for family in args.families.split(","):
        level = calibrate(portfolios, family, args.rate, args.everything, summed)
        rate, latencies, caught, total = evaluate(portfolios, family, level, args.everything, summed)
        pooled = [x for v in latencies.values() for x in v]
        met = sum(1 for s in seeds if caught[s] == total[s] and latencies[s]
                  and statistics.median(latencies[s]) <= targets[family])
        first4 = ", ".join(f"{statistics.median(latencies[s]) if latencies[s] else '-'} ({caught[s]}/{total[s]})"
                           for s in seeds if s <= 4)
        print(f"| {family} | {level:.2f} | {rate:.3f} | {sum(caught.values())}/{sum(total.values())} | "
              f"{metrics.median(pooled)} / {metrics.p90(pooled)} / {max(pooled, default='-')} | "
              f"{met} of {len(seeds)} (≤ {targets[family]} d) | {first4} |")


if __name__ == "__main__":
    main()
