"""The evaluation harness (``manage.py evaluate_health``): its stories, its measures, its replay.

The stories are checked against their labels on the events themselves (a slide labelled "KPI
read-outs under optimistic labels" really is KPI read-outs, half labelled advisory), the measures
on a hand-made case whose numbers are worked out below, and the replay on a small portfolio
written through the services and scored night by night.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings
from django.db import transaction

from clients.models import SponsorPeriod
from engagements import services as engagement_services
from engagements.models import Engagement, KPIMeasurement, Session
from health.evaluation import stories
from health.evaluation.metrics import Final, FlagRecord, evaluate, format_report, median, p90
from health.evaluation.replay import replay
from health.evaluation.stories import FIRST_NIGHT, Label, family_counts, portfolio
from health.models import Flag, HealthSnapshot

CONSULTATIVE = set(stories.CONSULTATIVE_FOCUSES)


def _nights(days: int) -> tuple[dt.date, dt.date]:
    return FIRST_NIGHT, FIRST_NIGHT + dt.timedelta(days=days - 1)


def _share(sessions, test) -> float:
    return sum(1 for e in sessions if test(e)) / len(sessions)


def _between(story, first: dt.date | None = None, last: dt.date | None = None):
    return [e for e in story.sessions() if (first is None or e.day >= first) and (last is None or e.day <= last)]


# --- The portfolio ----------------------------------------------------------------------------

def test_family_counts_follow_the_shares_and_keep_every_family():
    assert family_counts(40) == {"sudden_sponsor": 5, "gradual": 4, "kpi_pattern": 4, "cadence_drop": 4,
                                 "recovery": 3, "young": 3, "expert_led": 2, "client_led": 2, "healthy": 13}
    assert set(family_counts(9).values()) == {1}
    for total in (10, 17, 55, 80):
        counts = family_counts(total)
        assert sum(counts.values()) == total
        assert min(counts.values()) >= 1
    with pytest.raises(ValueError, match="at least 9"):
        family_counts(8)


def test_a_seed_gives_the_same_portfolio_and_another_seed_another():
    first = portfolio(seed=4, engagements=18, days=150)
    again = portfolio(seed=4, engagements=18, days=150)
    other = portfolio(seed=5, engagements=18, days=150)
    assert [s.label for s in first] == [s.label for s in again]
    assert [s.events for s in first] == [s.events for s in again]
    assert [s.label for s in first] != [s.label for s in other]


def _consultative(e) -> bool:
    return e.data["focus"] in CONSULTATIVE


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_story_behaves_as_its_label_says(seed):
    """Per story, what the label promises for sure; per family, pooled over its stories, what it
    promises on average (a single control of twelve sessions can look transactional by chance)."""
    days = 240
    first_night, last_night = _nights(days)
    stories_ = portfolio(seed=seed, engagements=40, days=days)
    assert Counter(s.label.family for s in stories_) == family_counts(40)
    pooled: dict[str, dict[str, list]] = {}

    def pool(family: str, part: str, events) -> None:
        pooled.setdefault(family, {}).setdefault(part, []).extend(events)

    for story in stories_:
        label = story.label
        sessions = story.sessions()
        assert sessions == sorted(sessions, key=lambda e: e.sort_key)
        assert all(label.start <= e.day <= last_night and e.day.weekday() < 5 for e in sessions)
        # Nobody meets during a planned break, which is marked 1–3 weeks ahead.
        for begin, end in label.breaks:
            assert not _between(story, begin, end)
            [mark] = [e for e in story.events if e.kind == "planned_break"]
            assert (mark.data["starts_on"], mark.data["ends_on"]) == (begin, end)
            assert 7 <= (begin - mark.day).days <= 21
        if label.family == "young":
            assert first_night < label.start < last_night
        else:
            assert label.start <= first_night - dt.timedelta(days=270), "a mature engagement has a full baseline"
        if label.onset:
            assert first_night < label.onset < last_night
            pool("slides", "before", _between(story, label.onset - dt.timedelta(days=180),
                                              label.onset - dt.timedelta(days=1)))
        if label.family == "sudden_sponsor":
            assert label.sponsor_changes == (label.onset,)
            assert [e.day for e in story.events if e.kind == "sponsor"] == [label.onset]
            pool(label.family, "after", _between(story, label.onset + dt.timedelta(days=11)))
        elif label.family == "kpi_pattern":
            after = _between(story, label.onset)
            assert after and all(e.data["kpis"] and e.data["minutes"] <= 75 for e in after)
            assert all(e.data["focus"] in ("advisory", "kpi_review", "reporting") for e in after)
            assert not any(e.data["advice"] for e in after if e.data["focus"] == "advisory")
            assert not label.sponsor_changes
            pool(label.family, "after", after)
        elif label.family == "gradual":
            pool(label.family, "after", _between(story, last_night - dt.timedelta(days=60)))
        elif label.family == "cadence_drop":
            before = _between(story, label.onset - dt.timedelta(days=180), label.onset - dt.timedelta(days=1))
            after = _between(story, label.onset)
            assert len(after) / (last_night - label.onset).days <= 0.5 * len(before) / 180
        elif label.family == "recovery":
            assert label.onset + dt.timedelta(days=50) <= label.recovered_on <= last_night - dt.timedelta(days=100)
            pool(label.family, "after", _between(story, label.onset, label.recovered_on - dt.timedelta(days=1)))
            pool(label.family, "healed", _between(story, label.recovered_on))
        elif label.family in ("expert_led", "client_led"):
            assert label.expected_mode == label.family
            pool(label.family, "all", sessions)
        elif label.family == "healthy":
            assert label.onset is None
            pool(label.family, "all", sessions)

    def share(family, part, test):
        return _share(pooled[family][part], test)

    assert share("slides", "before", _consultative) >= 0.5
    assert share("sudden_sponsor", "after", _consultative) <= 0.15
    assert share("sudden_sponsor", "after", lambda e: e.data["advice"]) <= 0.1
    assert (statistics.mean(e.data["minutes"] for e in pooled["sudden_sponsor"]["after"])
            < statistics.mean(e.data["minutes"] for e in pooled["slides"]["before"]) - 15)
    assert share("gradual", "after", _consultative) <= 0.35
    assert 0.35 <= share("kpi_pattern", "after", lambda e: e.data["focus"] == "advisory") <= 0.65
    assert share("recovery", "after", lambda e: _consultative(e) and e.data["advice"]) <= 0.1
    assert share("recovery", "healed", _consultative) >= 0.5
    assert share("expert_led", "all", lambda e: e.data["initiated_by"] == "client") <= 0.1
    assert share("client_led", "all", lambda e: e.data["initiated_by"] == "client") >= 0.88
    assert 0.55 <= share("healthy", "all", _consultative) <= 0.88
    assert 0.3 <= share("healthy", "all", lambda e: e.data["initiated_by"] == "client") <= 0.65
    healthy = [s.label for s in stories_ if s.label.family == "healthy"]
    assert any(label.breaks for label in healthy), "some controls mark a planned break"
    assert any(label.sponsor_changes for label in healthy), "some controls change sponsor without sliding"
    # Honest noise: the controls do not share one template.
    assert len({label.planned_cadence_days for label in healthy}) >= 3


# --- The measures, on a hand-made case --------------------------------------------------------

def _night(n: int) -> dt.date:
    return FIRST_NIGHT + dt.timedelta(days=n)


def _label(key, family, *, onset=None, recovered=None, mode=None, breaks=(), start=-400):
    return Label(key=key, family=family, start=_night(start), planned_cadence_days=14, onset=onset,
                 recovered_on=recovered, expected_mode=mode, breaks=breaks)


def test_the_measures_on_a_hand_made_case():
    labels = [
        _label("H", "healthy", breaks=((_night(20), _night(40)),)),
        _label("S", "sudden_sponsor", onset=_night(50)),
        _label("C", "cadence_drop", onset=_night(40)),
        _label("E", "expert_led", mode="expert_led"),
        _label("R", "recovery", onset=_night(20), recovered=_night(60)),
    ]
    flags = [
        FlagRecord("H", "drift_to_transactional", _night(10), _night(12), "resolved"),  # false alarm
        FlagRecord("H", "sponsor_change", _night(11), None, "open"),                    # a fact: not judged
        FlagRecord("H", "cadence_drop", _night(50), _night(52), "resolved"),            # inside the break (40 + 14)
        FlagRecord("H", "cadence_drop", _night(70), None, "open"),                      # after it: a false alarm only
        FlagRecord("S", "drift_to_transactional", _night(30), _night(31), "resolved"),  # before onset: false alarm
        FlagRecord("S", "drift_to_transactional", _night(60), _night(70), "resolved"),  # caught after 10 days
        FlagRecord("S", "drift_to_transactional", _night(80), None, "open"),            # a second episode
        FlagRecord("C", "cadence_drop", _night(61), None, "open"),                      # caught after 21 days
        FlagRecord("E", "one_sided", _night(5), None, "open"),                          # true for an expert-led one
        FlagRecord("E", "drift_to_transactional", _night(7), _night(9), "resolved"),    # false alarm
        FlagRecord("R", "drift_to_transactional", _night(35), _night(90), "resolved"),  # caught after 15, resolved
        FlagRecord("R", "drift_to_transactional", _night(-5), _night(-1), "resolved"),  # before the replay: ignored
    ]
    finals = {"E": Final("expert_led", "consultative", _night(99)),
              "S": Final("co_production", "transactional", _night(99)),
              "H": Final("co_production", "consultative", _night(99))}
    report = evaluate(labels, flags, finals, first_night=_night(0), last_night=_night(99))

    f = report.families
    assert (f["sudden_sponsor"].caught, f["sudden_sponsor"].latencies, f["sudden_sponsor"].episodes) == (1, [10], 2)
    assert (f["cadence_drop"].caught, f["cadence_drop"].latencies) == (1, [21])
    assert (f["recovery"].caught, f["recovery"].latencies, f["recovery"].resolved) == (1, [15], 1)
    assert f["sudden_sponsor"].transactional_at_end == 1
    assert f["expert_led"].mode_right == 1
    # Healthy nights: H 100, S 50 (before onset), C 40, E 100, R 20 = 310; one-sided leaves E out: 210.
    assert report.healthy_years == {"*": pytest.approx(310 / 365), "one_sided": pytest.approx(210 / 365)}
    assert report.false_alarms == {"drift_to_transactional": 3, "cadence_drop": 2}
    assert report.rate("drift_to_transactional") == pytest.approx(3 / (310 / 365))
    assert report.rate("one_sided") == 0
    assert report.false_alarms_by_family["drift_to_transactional"] == {"healthy": 1, "before onset": 1, "expert_led": 1}
    assert (report.break_cadence_flags, report.breaks) == (1, 1)
    # Episodes: S 2, C 1, R 1 for three slides.
    assert report.episodes_per_slide == pytest.approx(4 / 3)

    met = {t.name: t.met for t in report.targets}
    assert met["sudden slide after a sponsor change"] is True
    assert met["cadence drop"] is True          # 21 days, exactly the target
    assert met["slide, then recovery"] is True
    assert met["healthy nights: drift_to_transactional"] is False
    assert met["healthy nights: one_sided"] is True
    assert met["marked planned breaks"] is False
    assert met["flapping"] is False
    assert met["expert-led (stable): mode at the end"] is True
    assert not report.all_met
    table = format_report(report)
    assert "| sudden slide after a sponsor change | 1 | 1/1 | 10 / 10 / 10 | 2.00 | transactional 1/1 |" in table
    assert "| flapping | ≤ 1.2 flag episodes per true slide | 4 episodes for 3 slides (1.33) | ✗ |" in table


def test_a_slide_not_caught_or_caught_late_misses_its_target():
    labels = [_label("S1", "sudden_sponsor", onset=_night(10)), _label("S2", "sudden_sponsor", onset=_night(10))]
    flags = [FlagRecord("S1", "drift_to_transactional", _night(46), None, "open")]  # 36 days: over the max
    report = evaluate(labels, flags, {}, first_night=_night(0), last_night=_night(99))
    [target] = [t for t in report.targets if t.name == "sudden slide after a sponsor change"]
    assert not target.met
    assert target.measured == "1/2 caught, median 36 d, max 36 d"
    # A live flag at the end means a recovery did not resolve.
    recovery = [_label("R", "recovery", onset=_night(10), recovered=_night(40))]
    live = [FlagRecord("R", "drift_to_transactional", _night(20), None, "open")]
    assert evaluate(recovery, live, {}, first_night=_night(0), last_night=_night(99)).families["recovery"].resolved == 0


def test_percentiles_are_nearest_rank():
    assert p90(list(range(1, 11))) == 9
    assert p90([5]) == 5
    assert p90([3, 1, 2]) == 3
    assert p90([]) is None
    assert median([4, 1, 10]) == 4


# --- The replay, through the services ---------------------------------------------------------

def _replay(seed: int, engagements: int, days: int, **kwargs):
    first_night, last_night = _nights(days)
    stories_ = portfolio(seed=seed, engagements=engagements, days=days)
    outcome = replay(stories_, first_night=first_night, last_night=last_night, **kwargs)
    return stories_, outcome


@pytest.mark.django_db
def test_the_replay_writes_the_stories_through_the_services_and_scores_every_night(monkeypatch):
    marked = []
    # Planned breaks go through the engine's service when it has one (a stand-in here, recording).
    monkeypatch.setattr(engagement_services, "planned_break_create",
                        lambda **kwargs: marked.append(kwargs), raising=False)
    days = 120
    first_night, last_night = _nights(days)
    stories_, outcome = _replay(seed=3, engagements=9, days=days)

    by_key = {s.key: s for s in stories_}
    engagements = {e.title: e for e in Engagement.objects.all()}
    assert set(engagements) == set(by_key)
    for key, story in by_key.items():
        engagement = engagements[key]
        sessions = Session.objects.filter(engagement=engagement).order_by("start")
        assert [(s.start.date(), s.focus, s.duration_minutes) for s in sessions] == [
            (e.day, e.data["focus"], e.data["minutes"]) for e in story.sessions()]
        assert [s.kpis_discussed.count() for s in sessions] == [len(e.data["kpis"]) for e in story.sessions()]
        # One snapshot per night from the first night (or the engagement's start), none on another date.
        nights = (last_night - max(first_night, story.label.start)).days + 1
        assert HealthSnapshot.objects.filter(engagement=engagement).count() == nights
        for changed in story.label.sponsor_changes:
            assert SponsorPeriod.objects.filter(client=engagement.client, start=changed).exists()
    assert KPIMeasurement.objects.exists()
    assert not HealthSnapshot.objects.exclude(date__gte=first_night, date__lte=last_night).exists()
    assert all(first_night <= f.raised_on <= last_night for f in Flag.objects.all())
    stored = Flag.objects.order_by("raised_on", "id").values_list("kind", flat=True)
    assert [f.kind for f in outcome.flags] == list(stored)
    assert set(outcome.finals) == set(by_key) and {f.as_of for f in outcome.finals.values()} == {last_night}
    assert outcome.breaks_marked
    breaks = [b for s in stories_ for b in s.label.breaks]
    assert [(m["starts_on"], m["ends_on"]) for m in marked] == breaks and breaks


@pytest.mark.django_db
def test_a_replay_is_reproducible():
    days = 120
    first_night, last_night = _nights(days)
    # Three stories are enough to see a replay come out the same (and keep the test quick).
    chosen = [s for s in portfolio(seed=7, engagements=9, days=days)
              if s.label.family in ("sudden_sponsor", "cadence_drop", "healthy")]

    def once():
        with transaction.atomic():
            outcome = replay(chosen, first_night=first_night, last_night=last_night)
            transaction.set_rollback(True)
        return outcome

    first, second = once(), once()
    assert first.flags == second.flags and first.flags
    assert first.finals == second.finals
    assert first.counts == second.counts


def test_the_command_runs_in_a_throwaway_database_and_leaves_the_configured_one_alone(tmp_path):
    configured = tmp_path / "mine.sqlite3"
    with sqlite3.connect(configured) as db:
        db.execute("CREATE TABLE precious (value TEXT)")
        db.execute("INSERT INTO precious VALUES ('untouched')")
    before = configured.read_bytes()
    kept = tmp_path / "evaluation.sqlite3"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{configured}",
           "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "evaluate_health", "--seed", "2", "--engagements", "9", "--days", "120",
         "--keep-database", str(kept)], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    assert "| family | n | caught |" in result.stdout
    assert "| flapping |" in result.stdout
    assert ("Every target met." in result.stdout) == (result.returncode == 0)
    assert configured.read_bytes() == before
    with sqlite3.connect(kept) as db:
        assert db.execute("SELECT count(*) FROM engagements_engagement").fetchone() == (9,)
        assert db.execute("SELECT count(*) FROM health_healthsnapshot").fetchone()[0] > 9 * 60
    again = subprocess.run(
        [sys.executable, "manage.py", "evaluate_health", "--engagements", "9", "--days", "120", "--keep-database",
         str(kept)], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    assert "already exists" in again.stderr
