"""bench_health times the scorer against the honest floor in one run and prints both with the ratio."""

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from engagements.models import KPIMeasurement, Session
from health import floor
from health.models import HealthSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def pinned(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC), tick=True)


def _run(**options) -> str:
    out = io.StringIO()
    call_command("bench_health", stdout=out, **options)
    return out.getvalue()


def test_bench_prints_the_floor_and_the_scorer_side_by_side(pinned):
    output = _run(engagements=30, sessions_per=20, repeat=1)
    as_of = timezone.localdate()

    # Every read the model needs is in the floor, KPIs and planned breaks included.
    for label, _sql in floor.read_statements():
        assert label in output
    assert "writing the run's snapshots" in output
    floor_total = float(re.search(r"\| \*\*floor\*\* \| \*\*([\d.]+) s\*\* \| 1× \|", output).group(1))
    ratios = re.findall(r"\| scoring, 1 process, (first run|rerun of the same date) .* \| ([\d.]+) s \| ([\d.]+)× \|",
                        output)
    assert [run for run, _s, _r in ratios] == ["first run", "rerun of the same date"]
    for _run_label, seconds, ratio in ratios:
        # The times are printed to 0.1 ms and the ratio to 0.01: allow for that rounding.
        expected = float(seconds) / floor_total
        rounding = expected * (0.00005 / floor_total + 0.00005 / float(seconds)) + 0.005
        assert abs(float(ratio) - expected) <= rounding
    assert HealthSnapshot.objects.filter(date=as_of).count() == 30


def test_the_floor_reads_the_rows_the_model_needs(pinned):
    _run(engagements=20, sessions_per=30, repeat=1)
    as_of = timezone.localdate()
    reads = {t.label: t.rows for t in floor.time_reads(as_of, repeat=1)}
    window_start = as_of - dt.timedelta(days=89)
    start = timezone.make_aware(dt.datetime.combine(window_start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    sessions_w = Session.objects.filter(start__gte=start, start__lt=end).count()
    assert sessions_w > 0
    [w_sessions] = [rows for label, rows in reads.items() if label.startswith("sessions in W one by one")]
    assert w_sessions == sessions_w
    values_w = KPIMeasurement.objects.filter(date__gte=window_start, date__lte=as_of).count()
    assert values_w > 0 and reads["KPI values in W"] == values_w
    # Both forms of the KPI read are timed and the cheaper kept: either way, every KPI once.
    [kpis] = [rows for label, rows in reads.items() if label.startswith("KPIs, with when each was first and last")]
    assert kpis == 60
    assert reads["engagements to score"] == 20


def test_a_database_built_by_an_older_bench_is_refused(pinned):
    _run(engagements=10, sessions_per=10, repeat=1)
    from engagements.models import KPI

    KPI.objects.all().delete()
    with pytest.raises(Exception, match="older bench_health"):
        _run(engagements=10, sessions_per=10, repeat=1)


def test_the_forms_of_one_floor_read_return_the_same_rows(pinned):
    # The floor keeps whichever form is cheaper: a form reading other rows would time another read.
    _run(engagements=20, sessions_per=30, repeat=1)
    params = floor._params(timezone.localdate())
    with connection.cursor() as cursor:
        for label, forms in floor.read_statements():
            if isinstance(forms, str):
                continue
            results = []
            for sql in forms.values():
                cursor.execute(sql, params)
                results.append(sorted(cursor.fetchall(), key=repr))
            assert len(results) == 2 and results[0] == results[1] and results[0], label
