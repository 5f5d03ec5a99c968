"""The measures of the evaluation, from the stories' labels and what the engine stored. Pure.

Definitions (docs/health.md, Evaluation, says the same in words):

- **Caught**: a slide engagement is caught when a flag of its family's kind (drift to
  transactional; cadence drop for the cadence family) is raised on or after the story's onset and
  by the last night. **Latency** = raising date − onset, in days, of the first such flag.
- **Healthy nights**: the replayed nights on which the story says nothing is wrong: every night
  of a healthy control or a young engagement (from its start), and the nights before the onset
  of a slide. A flag raised on a healthy night is a **false alarm** of its kind; the rate is
  false alarms ÷ (healthy nights ÷ 365), per kind. A sponsor change is a fact, never judged. On
  an expert-led or client-led engagement a one-sided flag is true, so its nights are healthy
  nights for every kind but that one.
- **Episodes per true slide**: flags of the family's kind raised on or after the onset, over the
  slide engagements (1.0 = one flag per slide, never re-raised).
- **Inside a marked planned break**: a cadence flag raised from the break's first day to one
  planned interval after its last (the engine promises silence over that span).
- **Mode at the end**, **state at the end**: the engagement's latest figures after the last night.
- **Resolved** (recovery family): caught, and no flag of the kind is live at the end.
- p90 is the nearest-rank 90th percentile.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from health.evaluation.stories import (
    CADENCE,
    DRIFT,
    EXPECTED_MODE,
    FAMILY_NAMES,
    FAMILY_TITLES,
    FEEDBACK_DECLINE,
    ONE_SIDED,
    RELEVANT_KIND,
    TRUE_FROM_START,
    Label,
)

NOT_JUDGED = {"sponsor_change"}
LIVE = {"open", "acknowledged", "snoozed"}
TRANSACTIONAL = "transactional"


@dataclass(frozen=True)
class FlagRecord:
    key: str            # the story (engagement) it belongs to
    kind: str
    raised_on: dt.date
    episode_ended_on: dt.date | None
    status: str


@dataclass(frozen=True)
class Final:
    mode: str
    state: str
    as_of: dt.date


@dataclass
class FamilyResult:
    family: str
    total: int = 0
    caught: int = 0
    latencies: list[int] = field(default_factory=list)
    episodes: int = 0
    mode_right: int = 0
    transactional_at_end: int = 0
    resolved: int = 0
    watch_latencies: list[int] = field(default_factory=list)

    @property
    def title(self) -> str:
        return FAMILY_TITLES.get(self.family, self.family)

    @property
    def is_slide(self) -> bool:
        return self.family in RELEVANT_KIND


@dataclass
class Target:
    name: str
    target: str
    measured: str
    met: bool


@dataclass
class Report:
    first_night: dt.date
    last_night: dt.date
    families: dict[str, FamilyResult]
    false_alarms: dict[str, int]                  # kind -> flags raised on healthy nights
    false_alarms_by_family: dict[str, dict[str, int]]
    healthy_years: dict[str, float]               # kind -> engagement-years of healthy nights judged for it
    break_cadence_flags: int
    breaks: int
    watch_nights_share: float | None
    targets: list[Target] = field(default_factory=list)

    def rate(self, kind: str) -> float:
        years = self.healthy_years.get(kind) or self.healthy_years.get("*", 0.0)
        return self.false_alarms.get(kind, 0) / years if years else 0.0

    @property
    def slide_engagements(self) -> int:
        return sum(r.total for r in self.families.values() if r.is_slide)

    @property
    def slide_episodes(self) -> int:
        return sum(r.episodes for r in self.families.values() if r.is_slide)

    @property
    def episodes_per_slide(self) -> float:
        return self.slide_episodes / self.slide_engagements if self.slide_engagements else 0.0

    @property
    def all_met(self) -> bool:
        return all(t.met for t in self.targets)


def p90(values: Sequence[int]) -> int | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def median(values: Sequence[int]) -> float | None:
    return statistics.median(values) if values else None


def _healthy_night(label: Label, kind: str, night: dt.date) -> bool:
    """Is ``night`` one on which a flag of ``kind`` on this engagement would be a false alarm?"""
    if kind in NOT_JUDGED or kind in TRUE_FROM_START.get(label.family, ()):
        return False
    if night < label.start:
        return False
    return label.onset is None or night < label.onset


def evaluate(labels: Iterable[Label], flags: Iterable[FlagRecord], finals: Mapping[str, Final], *,
             first_night: dt.date, last_night: dt.date,
             watch: Mapping[str, Sequence[dt.date]] | None = None) -> Report:
    labels = {label.key: label for label in labels}
    flags = sorted(flags, key=lambda f: (f.raised_on, f.key, f.kind))
    families = {name: FamilyResult(name) for name in FAMILY_NAMES if any(lb.family == name for lb in labels.values())}

    # Exposure: healthy nights per kind. Kinds judged the same way share one count ("*").
    nights_all, nights_not_one_sided = 0, 0
    for label in labels.values():
        first = max(first_night, label.start)
        last = min(last_night, label.onset - dt.timedelta(days=1)) if label.onset else last_night
        nights = max(0, (last - first).days + 1)
        nights_all += nights
        if ONE_SIDED not in TRUE_FROM_START.get(label.family, ()):
            nights_not_one_sided += nights
    healthy_years = {"*": nights_all / 365, ONE_SIDED: nights_not_one_sided / 365}

    false_alarms: dict[str, int] = {}
    by_family: dict[str, dict[str, int]] = {}
    for flag in flags:
        label = labels.get(flag.key)
        if label is None or not (first_night <= flag.raised_on <= last_night):
            continue
        if _healthy_night(label, flag.kind, flag.raised_on):
            false_alarms[flag.kind] = false_alarms.get(flag.kind, 0) + 1
            where = "before onset" if label.onset else label.family
            by_family.setdefault(flag.kind, {})
            by_family[flag.kind][where] = by_family[flag.kind].get(where, 0) + 1

    for label in labels.values():
        result = families[label.family]
        result.total += 1
        final = finals.get(label.key)
        kind = label.relevant_kind
        if kind is not None and label.onset is not None:
            after = [f for f in flags
                     if f.key == label.key and f.kind == kind and label.onset <= f.raised_on <= last_night]
            result.episodes += len(after)
            if after:
                result.caught += 1
                result.latencies.append((after[0].raised_on - label.onset).days)
                if label.recovered_on is not None and not any(
                        f.key == label.key and f.kind == kind and f.status in LIVE for f in flags):
                    result.resolved += 1
            if watch is not None:
                seen = [d for d in watch.get(label.key, ()) if label.onset <= d <= last_night]
                if seen:
                    result.watch_latencies.append((seen[0] - label.onset).days)
        if final is not None and final.as_of == last_night:
            if label.expected_mode is not None and final.mode == label.expected_mode:
                result.mode_right += 1
            if final.state == TRANSACTIONAL:
                result.transactional_at_end += 1

    break_flags = 0
    breaks = 0
    for label in labels.values():
        for first, last in label.breaks:
            breaks += 1
            until = last + dt.timedelta(days=label.planned_cadence_days)
            break_flags += sum(1 for f in flags if f.key == label.key and f.kind == CADENCE
                               and first <= f.raised_on <= until)

    watch_share = None
    if watch is not None:
        on_watch = sum(1 for key, dates in watch.items() if key in labels
                       for d in dates if first_night <= d <= last_night and _healthy_night(labels[key], DRIFT, d))
        watch_share = on_watch / (nights_all or 1)

    report = Report(first_night=first_night, last_night=last_night, families=families, false_alarms=false_alarms,
                    false_alarms_by_family=by_family, healthy_years=healthy_years, break_cadence_flags=break_flags,
                    breaks=breaks, watch_nights_share=watch_share)
    report.targets = targets(report)
    return report


def _latency_text(result: FamilyResult) -> str:
    if not result.latencies:
        return "none caught"
    return f"median {median(result.latencies):g} d, max {max(result.latencies)} d"


def targets(report: Report) -> list[Target]:
    """The issue's targets, checked on this report (families absent from it are skipped)."""
    out: list[Target] = []
    f = report.families

    def caught(family: str, median_days: int, max_days: int | None = None) -> None:
        if family not in f:
            return
        r = f[family]
        met = (r.caught == r.total and r.latencies != [] and median(r.latencies) <= median_days
               and (max_days is None or max(r.latencies) <= max_days))
        target = f"100 % caught, median ≤ {median_days} d" + (f", max ≤ {max_days} d" if max_days else "")
        out.append(Target(r.title, target, f"{r.caught}/{r.total} caught, {_latency_text(r)}", met))

    caught("sudden_sponsor", 21, 35)
    caught("gradual", 60)
    caught("kpi_pattern", 30)
    if "kpi_pattern" in f:
        r = f["kpi_pattern"]
        out.append(Target(f"{r.title}: state at the end", "transactional, 100 %",
                          f"{r.transactional_at_end}/{r.total} transactional", r.transactional_at_end == r.total))
    caught("cadence_drop", 21)
    if "recovery" in f:
        r = f["recovery"]
        out.append(Target(r.title, "100 % caught and resolved by the end",
                          f"{r.caught}/{r.total} caught, {r.resolved}/{r.total} resolved", r.resolved == r.total))
    for kind in (DRIFT, ONE_SIDED, FEEDBACK_DECLINE):
        rate = report.rate(kind)
        out.append(Target(f"healthy nights: {kind}", "≤ 0.1 flags per engagement-year",
                          f"{report.false_alarms.get(kind, 0)} flags, {rate:.2f} per engagement-year", rate <= 0.1))
    if report.breaks:
        out.append(Target("marked planned breaks", "0 cadence flags inside",
                          f"{report.break_cadence_flags} in {report.breaks} breaks", report.break_cadence_flags == 0))
    if report.slide_engagements:
        out.append(Target("flapping", "≤ 1.2 flag episodes per true slide",
                          f"{report.slide_episodes} episodes for {report.slide_engagements} slides "
                          f"({report.episodes_per_slide:.2f})", report.episodes_per_slide <= 1.2))
    for family in EXPECTED_MODE:
        if family in f:
            r = f[family]
            out.append(Target(f"{r.title}: mode at the end", "right, 100 %", f"{r.mode_right}/{r.total} right",
                              r.mode_right == r.total))
    return out


# --- Printing --------------------------------------------------------------------------------

KINDS_SHOWN = (DRIFT, ONE_SIDED, FEEDBACK_DECLINE, CADENCE, "milestone_slippage", "perception_gap")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def format_report(report: Report, *, heading: str = "") -> str:
    """The table as Markdown (readable in a terminal, pasteable into docs/health.md)."""
    lines = [heading] if heading else []
    lines += ["| family | n | caught | latency median / p90 / max (days) | episodes per slide | at the end |",
              "|---|---:|---:|---|---:|---|"]
    for r in report.families.values():
        caught = f"{r.caught}/{r.total}" if r.is_slide else "–"
        latency = (f"{_fmt(median(r.latencies))} / {_fmt(p90(r.latencies))} / {_fmt(max(r.latencies, default=None))}"
                   if r.is_slide else "–")
        episodes = f"{r.episodes / r.total:.2f}" if r.is_slide and r.total else "–"
        end = []
        if r.family in EXPECTED_MODE:
            end.append(f"mode right {r.mode_right}/{r.total}")
        if r.is_slide and r.family != "cadence_drop":
            end.append(f"transactional {r.transactional_at_end}/{r.total}")
        if r.family == "recovery":
            end.append(f"resolved {r.resolved}/{r.total}")
        if r.watch_latencies:
            end.append(f"watch median {_fmt(median(r.watch_latencies))} d after onset")
        lines.append(f"| {r.title} | {r.total} | {caught} | {latency} | {episodes} | {', '.join(end) or '–'} |")
    lines += ["", f"False alarms on healthy nights ({report.healthy_years['*']:.1f} engagement-years; "
              f"{report.healthy_years[ONE_SIDED]:.1f} for one-sided):", "",
              "| flag kind | false alarms | per engagement-year | where |", "|---|---:|---:|---|"]
    for kind in (*KINDS_SHOWN, *sorted(set(report.false_alarms) - set(KINDS_SHOWN))):
        where = ", ".join(f"{name} {n}" for name, n in sorted(report.false_alarms_by_family.get(kind, {}).items()))
        lines.append(f"| {kind} | {report.false_alarms.get(kind, 0)} | {report.rate(kind):.2f} | {where or '–'} |")
    if report.breaks:
        lines += ["", f"Cadence flags inside marked planned breaks (to one planned interval after): "
                  f"{report.break_cadence_flags} in {report.breaks} breaks."]
    if report.watch_nights_share is not None:
        lines += ["", f"Healthy nights on watch: {100 * report.watch_nights_share:.1f} %."]
    lines += ["", "| target | wanted | measured | |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.target} | {t.measured} | {'✓' if t.met else '✗'} |" for t in report.targets]
    return "\n".join(lines)
