"""bench_dashboard on a tiny portfolio: it runs, times every page, and its flags read like the engine's."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.core.management import CommandError, call_command

from dashboard.management.commands.bench_dashboard import _sample_evidence
from health import evidence
from health.models import Flag

pytestmark = pytest.mark.django_db


def test_a_small_run_times_every_page_and_every_flag_is_put_in_words(caplog):
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="health.evidence"):
        call_command("bench_dashboard", engagements=24, days=5, requests=1, force=True, stdout=out)
    report = out.getvalue()
    for page in ("dashboard (portfolio + map)", "flag queue", "bare login page (reference)"):
        assert page in report
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert kinds, "the benchmark raises flags for the flag queue to show"
    # Evidence it could not put in words would time the fallback (and log a traceback per card).
    assert not [r for r in caplog.records if r.name == "health.evidence"], [r.getMessage() for r in caplog.records]


def test_it_refuses_a_database_that_is_not_a_bench_one():
    with pytest.raises(CommandError, match="not a \\*bench\\* database"):
        call_command("bench_dashboard", engagements=2, days=1, requests=1)


@pytest.mark.parametrize("kind", [kind for kind, _label in Flag.Kind.choices])
def test_each_kind_of_benchmark_flag_reads_like_the_engines(kind, caplog):

    sample = _sample_evidence(kind, dt.date(2026, 11, 20))
    with caplog.at_level(logging.WARNING, logger="health.evidence"):
        summary = evidence.flag_summary(kind, sample)
        evidence.key_figure(kind, sample)  # (a sponsor change has no key figure)
        evidence.evidence_details(kind, sample)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert summary
