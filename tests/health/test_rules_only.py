"""The tuner's fast loop: ``evaluate_health --keep-facts`` then ``--rules-only`` (docs/health.md, Evaluation).

The rules replayed alone on the facts a full replay recorded must print the report the full replay
printed; a change of settings must show in it; a recording made when the selectors read other
facts must be refused rather than replayed wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import subprocess
import sys

import pytest
from django.conf import settings

from health import scoring
from health.conf import health_config
from health.evaluation import rules_only


def _command(tmp_path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "test", "HOME": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'configured.sqlite3'}"}
    return subprocess.run([sys.executable, "manage.py", "evaluate_health", "--no-fail", *args],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout)


def _body(report: str) -> str:
    """The report without its heading (which says how the run was made)."""
    return report.split("\n", 1)[1]


def test_the_rules_alone_on_recorded_facts_print_the_full_replays_report(tmp_path):
    facts = tmp_path / "facts.pickle"
    full = _command(tmp_path, "--seed", "1", "--engagements", "9", "--days", "120", "--keep-facts", str(facts))
    assert full.returncode == 0, full.stderr
    fast = _command(tmp_path, "--rules-only", str(facts), timeout=120)
    assert fast.returncode == 0, fast.stderr
    assert "seed 1: 9 engagements, 120 nights" in fast.stdout
    assert "| drift_to_transactional |" in fast.stdout
    assert _body(fast.stdout) == _body(full.stdout)

    # Today's settings, not the recorded run's: a drift level nothing reaches raises no drift flag.
    recorded = rules_only.load(facts)
    assert len(recorded.nights) == 120 and len(recorded.key_of) == 9
    as_recorded = rules_only.replay_rules(recorded, health_config())
    assert any(f.kind == "drift_to_transactional" for f in as_recorded.flags)
    deaf = dataclasses.replace(health_config(), drift_raise_at=1e9, drift_sponsor_raise_at=1e9)
    assert not any(f.kind == "drift_to_transactional" for f in rules_only.replay_rules(recorded, deaf).flags)

    again = _command(tmp_path, "--seed", "1", "--engagements", "9", "--days", "120", "--keep-facts", str(facts),
                     timeout=120)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_a_recording_of_other_facts_is_refused(tmp_path):
    stale = tmp_path / "stale.pickle"
    stale.write_bytes(pickle.dumps({"format": rules_only.FORMAT, "fields": ("engagement_id", "sessions"),
                                    "recording": None}))
    result = _command(tmp_path, "--rules-only", str(stale), timeout=120)
    assert result.returncode == 2
    assert "record again" in result.stderr
    other = tmp_path / "other.pickle"
    other.write_bytes(b"not a pickle")
    assert _command(tmp_path, "--rules-only", str(other), timeout=120).returncode == 2



def test_a_recording_made_before_the_sessions_were_named_tuples_is_refused(tmp_path, monkeypatch):
    # Recorded when SessionRow was a frozen dataclass: a named tuple of today cannot be made the way
    # that pickles ("make the class, then set its fields"); the file is refused, the command does not crash.
    @dataclasses.dataclass(frozen=True, slots=True)
    class SessionRow:
        day: dt.date
        minutes: int

    SessionRow.__module__, SessionRow.__qualname__ = scoring.__name__, "SessionRow"
    monkeypatch.setattr(scoring, "SessionRow", SessionRow)
    old = tmp_path / "old.pickle"
    old.write_bytes(pickle.dumps({"format": 1, "fields": (), "recording": [SessionRow(dt.date(2026, 1, 5), 30)]}))
    monkeypatch.undo()
    with pytest.raises(rules_only.FactsFileError, match="not a facts recording"):
        rules_only.load(old)
