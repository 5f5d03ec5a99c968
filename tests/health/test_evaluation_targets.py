"""The health engine against its targets, on a small evaluation run (docs/health.md, Evaluation).

One replay of a small labelled portfolio (seed 1, 20 engagements, 150 nights: every family; about
25 s of CPU) through the services, scored night by night, then the same measures and targets as
``manage.py evaluate_health``.

- The targets the engine meets today must stay met: false alarms on healthy relationships (drift,
  one-sided, feedback decline), no cadence flag inside a marked planned break, no flapping, the
  mode of expert-led and client-led engagements, KPI read-outs ending transactional, recoveries
  caught and resolved. A change of rules that breaks one fails here.
- The detection-speed targets (sudden, gradual, KPI read-outs, cadence) are not all met yet
  (docs/health.md, "What is still missed"): while any is missed the test ends as an expected
  failure naming them, and it passes on its own the day every target is met.
"""

from __future__ import annotations

import datetime as dt

import pytest

from health.evaluation.metrics import evaluate, format_report
from health.evaluation.replay import replay
from health.evaluation.stories import FIRST_NIGHT, portfolio

SEED, ENGAGEMENTS, DAYS = 1, 20, 150

# Met on this run with the rules of this release; they must stay met.
MUST_HOLD = ("KPI read-outs under optimistic labels: state at the end", "slide, then recovery",
             "healthy nights: drift_to_transactional", "healthy nights: one_sided",
             "healthy nights: feedback_decline", "marked planned breaks", "flapping",
             "expert-led (stable): mode at the end", "client-led (stable): mode at the end")


@pytest.mark.django_db
def test_the_engine_meets_its_targets_on_a_small_evaluation():
    last_night = FIRST_NIGHT + dt.timedelta(days=DAYS - 1)
    stories = portfolio(seed=SEED, engagements=ENGAGEMENTS, days=DAYS)
    outcome = replay(stories, first_night=FIRST_NIGHT, last_night=last_night)
    report = evaluate([s.label for s in stories], outcome.flags, outcome.finals, first_night=FIRST_NIGHT,
                      last_night=last_night, watch=outcome.watch)
    table = format_report(report)
    targets = {t.name: t for t in report.targets}
    assert set(MUST_HOLD) <= set(targets), table
    broken = [name for name in MUST_HOLD if not targets[name].met]
    assert not broken, f"targets no longer met: {broken}\n{table}"
    missed = [t for t in report.targets if not t.met]
    if missed:
        pytest.xfail("not met yet (docs/health.md): " + "; ".join(f"{t.name}: {t.measured}" for t in missed))
