"""manage.py score_relationships: dates, backfill, idempotence and one-line errors."""

import datetime as dt

import pytest
from django.core.management import call_command, execute_from_command_line
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from health import scoring
from health.models import Flag, HealthSnapshot
from tests import factories
from tests.health import histories as h
from tests.health.histories import AS_OF, ago

pytestmark = pytest.mark.django_db


def run_cli(capsys, *args):
    """Run the command as from a shell; return its exit status and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "score_relationships", *args])
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["--as-of", "2025-13-01"],
    ["--as-of", "yesterday"],
    ["--since", "2025-02-30"],
    ["--since", "2025-07-01", "--as-of", "2025-06-30"],
    ["--engagement", "987654"],
    ["--engagement", "twelve"],
])
def test_bad_input_is_one_line_and_exit_status_2(capsys, args):
    status, err = run_cli(capsys, *args)
    assert status == 2
    assert err.startswith("CommandError: ")
    assert err.count("\n") == 1


@pytest.fixture
def portfolio():
    """Two relationships with history, plus engagements the nightly run must leave alone."""
    healthy = factories.EngagementFactory(start=ago(400))
    sponsor = h.executive(healthy, "Ana Ruiz", "COO", sponsor_since=ago(400))
    h.co_production(healthy, first=ago(400), last=ago(2), sponsor=sponsor)
    drifting = factories.EngagementFactory(start=ago(400))
    h.sessions(drifting, first=ago(400), last=ago(45), focus="strategy")
    # Then short KPI reviews we call ourselves, where nobody asks what we think.
    h.sessions(drifting, first=ago(44), last=ago(1), focus="kpi_review", minutes=30, advice=False,
               initiated_by="consultant")
    factories.EngagementFactory(status="proposed", start=ago(400))
    factories.EngagementFactory(status="closed", closure_reason="completed", start=ago(400))
    return healthy, drifting


def state():
    return ([model_to_dict(s) for s in HealthSnapshot.objects.order_by("engagement_id", "date")],
            [model_to_dict(f) for f in Flag.objects.order_by("id")])


def test_running_twice_for_the_same_date_leaves_the_same_snapshots_and_flags(portfolio):
    call_command("score_relationships", as_of=AS_OF.isoformat(), verbosity=0)
    first = state()
    call_command("score_relationships", as_of=AS_OF.isoformat(), verbosity=0)

    assert state() == first
    assert {s["engagement"] for s in first[0]} == {e.pk for e in portfolio}
    assert [f["kind"] for f in first[1]] == [Flag.Kind.DRIFT_TO_TRANSACTIONAL]


def test_one_engagement_only(portfolio, capsys):
    healthy, _drifting = portfolio
    call_command("score_relationships", as_of=AS_OF.isoformat(), engagement=str(healthy.pk))

    assert list(HealthSnapshot.objects.values_list("engagement_id", flat=True)) == [healthy.pk]
    assert "1 snapshots" in capsys.readouterr().out


def test_since_backfills_one_snapshot_per_day_with_a_fixed_cost_per_day(portfolio):
    healthy, drifting = portfolio
    days = 60
    with CaptureQueriesContext(connection) as queries:
        call_command("score_relationships", since=ago(days - 1).isoformat(), as_of=AS_OF.isoformat(), verbosity=0)

    assert HealthSnapshot.objects.filter(engagement=healthy).count() == days
    assert HealthSnapshot.objects.count() == 2 * days
    # Per day: the engagement list, eleven reads (aggregates, W's sessions, KPIs, KPI values,
    # planned breaks), the flag read, the snapshot upsert, a savepoint pair (the test runs in a
    # transaction) and a flag update once the drift flag exists.
    assert len(queries) <= days * 17
    # The drift built up as KPI reviews replaced strategy; its flag was raised on the day it first held.
    flag = Flag.objects.get(engagement=drifting)
    assert flag.kind == Flag.Kind.DRIFT_TO_TRANSACTIONAL
    assert ago(days - 1) < flag.raised_on <= AS_OF
    assert flag.last_seen_on == AS_OF
    scores = list(HealthSnapshot.objects.filter(engagement=drifting).order_by("date").values_list("score", flat=True))
    assert scores[-1] < scores[0]


def test_engagement_without_sessions_gets_the_components_it_has_data_for():
    engagement = factories.EngagementFactory(start=ago(200))
    h.feedback(engagement, first=ago(60), last=ago(1), ratings=4)
    call_command("score_relationships", as_of=AS_OF.isoformat(), engagement=str(engagement.pk), verbosity=0)

    snapshot = HealthSnapshot.objects.get(engagement=engagement)
    assert snapshot.depth is None and snapshot.balance is None and snapshot.mode == snapshot.state == ""
    assert snapshot.cadence == 0  # expected sessions, none held: that is data, not its absence
    assert snapshot.components["feedback"]["value"] == 0.75
    assert snapshot.components["depth"]["points"] is None
    # Feedback 0.75 (weight .15) and cadence 0 (weight .15), renormalised: 37.5.
    assert snapshot.score == 37.5


def test_scores_before_the_engagement_started_are_not_written():
    engagement = factories.EngagementFactory(start=AS_OF)
    call_command("score_relationships", since=(AS_OF - dt.timedelta(days=5)).isoformat(), as_of=AS_OF.isoformat(),
                 verbosity=0)
    assert list(HealthSnapshot.objects.values_list("engagement_id", "date")) == [(engagement.pk, AS_OF)]


def test_outdated_rescores_what_older_rules_wrote(portfolio, capsys):
    healthy, drifting = portfolio
    call_command("score_relationships", since=ago(9).isoformat(), as_of=AS_OF.isoformat(), verbosity=0)
    # As if version 1 had written the last week of the drifting engagement's history.
    HealthSnapshot.objects.filter(engagement=drifting, date__gte=ago(6)).update(algorithm_version=1, score=1)

    call_command("score_relationships", as_of=AS_OF.isoformat(), outdated=True)

    assert "7 snapshots over 7 day(s)" in capsys.readouterr().out
    assert not HealthSnapshot.objects.exclude(algorithm_version=scoring.ALGORITHM_VERSION).exists()
    assert not HealthSnapshot.objects.filter(score=1).exists()
    call_command("score_relationships", as_of=AS_OF.isoformat(), outdated=True)
    assert "Nothing to re-score" in capsys.readouterr().out
