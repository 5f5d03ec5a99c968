"""The drift detector computes each session's step once per (length, signs) and reuses it: the
evidence must be exactly what adding up every session's step, one by one, gives."""

import datetime as dt
import random

from health import scoring
from health.conf import health_config


def plain_chart(sessions, rates, mean, sd, odds_ratio, shorter_factor, config):
    """The CUSUM written out session by session, with the chart's own per-sign ratios."""
    _total, _start, llr, duration_llr = scoring._drift_chart((), rates, mean, sd, odds_ratio, shorter_factor, config)
    total, run_start = 0.0, 0
    for index, session in enumerate(sessions):
        step = duration_llr(session.minutes)
        for attribute, given, hit, miss in llr.values():
            if given is None or session.readout == given:
                step += hit if getattr(session, attribute) else miss
        total += step
        if total <= 0:
            total, run_start = 0.0, index + 1
    return total, run_start


def test_memoised_steps_give_exactly_the_sum_of_every_sessions_step():
    config = health_config()
    rnd = random.Random(7)
    for _ in range(2000):
        sessions = [scoring.SessionRow(dt.date(2026, 1, 1) + dt.timedelta(days=day),
                                       rnd.choice([15, 30, 45, 60, 75, 90, 120]), rnd.random() < 0.6,
                                       rnd.random() < 0.4, rnd.random() < 0.4, rnd.random() < 0.5, rnd.random() < 0.5)
                    for day in range(rnd.randint(0, 40))]
        rates = {name: rnd.uniform(0.05, 0.95) for name, *_rest in scoring._INDICATORS}
        mean = rnd.uniform(20, 100)
        sd = max(rnd.uniform(1, 40), 0.2 * mean, 5.0)
        for odds_ratio, shorter_factor, _penalty in config.drift_charts:
            memoised = scoring._drift_chart(sessions, rates, mean, sd, odds_ratio, shorter_factor, config)
            assert memoised[:2] == plain_chart(sessions, rates, mean, sd, odds_ratio, shorter_factor, config)
