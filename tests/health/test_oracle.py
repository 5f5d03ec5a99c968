"""The oracle bound (``health.evaluation.oracle``): it weighs the portfolio the evaluation replays,
its evidence points the right way, and its level keeps the false alarms at the rate asked.

docs/health.md ("How early could any detector see a slide") quotes its figures; these tests keep
them meaning what the docs say.
"""

from __future__ import annotations

import statistics

from health.evaluation import oracle, stories


def test_it_weighs_the_very_portfolio_evaluate_health_replays():
    drawn = oracle.draw(3)
    replayed = stories.portfolio(seed=3, engagements=oracle.ENGAGEMENTS, days=oracle.DAYS)
    assert [d.story.key for d in drawn] == [s.key for s in replayed]
    assert [d.story.events for d in drawn] == [s.events for s in replayed]
    assert [d.story.label for d in drawn] == [s.label for s in replayed]


def test_sessions_weigh_towards_the_slide_after_its_onset_and_away_from_it_on_healthy_controls():
    slide, healthy = [], []
    for d in oracle.draw(1):
        label = d.story.label
        if label.family not in ("kpi_pattern", "healthy"):
            continue
        for day, ratios in oracle.evidence(d, "kpi_pattern", 1, everything=False):
            if day < stories.FIRST_NIGHT:
                continue
            if label.family == "healthy":
                healthy.append(ratios[0])
            elif day >= label.onset:
                slide.append(ratios[0])
    assert statistics.mean(slide) > 2      # nats per read-out session, every sign known exactly
    assert statistics.mean(healthy) < -2
    assert sum(r > 0 for r in healthy) < len(healthy) / 3


def test_the_calibrated_level_keeps_false_alarms_at_the_rate_asked_and_still_catches_read_outs():
    portfolios = {1: oracle.draw(1)}
    level = oracle.calibrate(portfolios, "kpi_pattern", rate=0.1)
    rate, latencies, caught, total = oracle.evaluate(portfolios, "kpi_pattern", level)
    assert rate <= 0.1
    # A level well below it raises on healthy nights: the calibration is what holds them back.
    assert oracle.evaluate(portfolios, "kpi_pattern", 0.5)[0] > 0.1
    assert caught[1] == total[1] == 4
    assert all(days >= 0 for days in latencies[1])


def test_the_gradual_slide_is_seen_only_months_after_its_onset_even_by_the_oracle():
    """The figure behind docs/health.md's conclusion, on one seed: at 0.1 false alarms a year, the
    oracle's median latency on the gradual slides is far past the 60 days #16 asked for."""
    portfolios = {2: oracle.draw(2)}
    level = oracle.calibrate(portfolios, "gradual", rate=0.1)
    _rate, latencies, _caught, _total = oracle.evaluate(portfolios, "gradual", level)
    assert latencies[2]
    assert statistics.median(latencies[2]) > 60
