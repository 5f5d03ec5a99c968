"""Evidence in words: every flag kind reads as a sentence in the reader's language, old evidence included."""

import pytest
from django.utils import translation

from health import evidence
from health.models import Flag

DRIFT_V2 = {
    "v": 2, "window": ["2026-06-04", "2026-09-01"], "baseline": ["2025-12-06", "2026-06-03"],
    "since": "2026-07-14",
    "sponsor_change": {"on": "2026-07-12", "new_sponsor": {"id": 7, "name": "Sofia Reyes"},
                       "previous_sponsor": {"id": 3, "name": "Tom Hall"}},
    "recent": {"sessions": 10, "readouts": 9, "consultative": 1, "advice": 0, "consultative_share": 0.1,
               "mean_minutes": 30},
    "before": {"sessions": 18, "readouts": 2, "consultative": 15, "consultative_share": 0.83, "mean_minutes": 75},
    "last_advice_on": "2026-07-03",
    "kpi": {"new_after_sponsor": ["Cost per lead"], "reports_without_conversation": 3},
    "parts": [{"signal": "readouts", "recent": 0.9, "before": 0.11, "evidence": 6.2},
              {"signal": "duration", "unit": "minutes", "recent": 30, "before": 75, "evidence": 2.1}],
    "score": 9.4, "raise_at": 6.0,
}
DRIFT_V1 = {"window": ["2026-06-04", "2026-09-01"], "baseline": ["2025-12-06", "2026-06-03"],
            "depth_window": 0.2, "depth_baseline": 0.8, "sessions_window": 6, "sessions_baseline": 12,
            "consultative_minutes_window": 60, "minutes_window": 300}
V1 = {
    "drift_to_transactional": DRIFT_V1,
    "sponsor_change": {"changes": [{"on": "2026-07-12", "new_sponsor": {"id": 7, "name": "Sofia Reyes"},
                                    "previous_sponsor": {"id": 3, "name": "Tom Hall"}}]},
    "cadence_drop": {"days_without_session": 38, "last_session_on": "2026-07-25", "planned_cadence_days": 14,
                     "sessions_window": 3, "sessions_baseline": 12, "sessions_per_30_days_window": 1.0,
                     "sessions_per_30_days_baseline": 2.0, "reasons": ["gap"]},
    "feedback_decline": {"mean_rating_window": 3.25, "mean_rating_baseline": 4.5, "responses_window": 4,
                         "responses_baseline": 6, "reasons": ["decline"]},
    "one_sided": {"mode": "expert_led", "balance": 0.1, "client_events": 2, "events": 20},
    "milestone_slippage": {"due": 5, "late": 3, "on_time": 2, "late_share": 0.6},
    "perception_gap": {"consultant_rating": 4.6, "client_rating": 2.9, "gap": 1.7},
}


def test_drift_says_what_changed_since_when_with_the_figures():
    text = evidence.flag_summary("drift_to_transactional", DRIFT_V2)
    assert text.startswith("Since Sofia Reyes became sponsor on 12 Jul 2026, 9 of the last 10 sessions were KPI "
                           "read-outs and the client has not asked for our view since 3 Jul 2026.")
    assert "1 KPI was added after the sponsor changed" in text
    assert "30 minutes on average instead of 75" in text
    assert evidence.key_figure("drift_to_transactional", DRIFT_V2) == ("10%", "consultative, vs 83% before")


def test_details_fold_the_parts_and_numbers():
    details = dict(evidence.evidence_details("drift_to_transactional", DRIFT_V2))
    assert details["KPI read-outs"] == "90%, vs 11% before (evidence 6.2)"
    assert details["Session length"] == "30 min, vs 75 min before (evidence 2.1)"
    assert details["Change first seen"] == "14 Jul 2026"
    assert details["Weight of evidence"] == "9.4"


@pytest.mark.parametrize("kind", Flag.Kind.values)
def test_every_kind_reads_in_english_and_french(kind):
    english = evidence.flag_summary(kind, V1[kind])
    with translation.override("fr"):
        french = evidence.flag_summary(kind, V1[kind])
        details = evidence.evidence_details(kind, V1[kind])
        figure = evidence.key_figure(kind, V1[kind])
    assert english and english.endswith(".") and "%(" not in english
    assert french and french != english and "%(" not in french
    assert all(label and value for label, value in details)
    assert figure is None or all(figure)


def test_french_dates_and_percentages():
    with translation.override("fr"):
        text = evidence.flag_summary("drift_to_transactional", DRIFT_V2)
        figure = evidence.key_figure("drift_to_transactional", DRIFT_V2)
    assert "12 juil. 2026" in text and "Sofia Reyes" in text
    assert figure[0] == "10\u202f%"


@pytest.mark.parametrize("broken", [{}, None, {"v": 2}, {"changes": []}, {"depth_window": "x"}, {"due": None}])
@pytest.mark.parametrize("kind", Flag.Kind.values)
def test_malformed_evidence_never_breaks_a_card(kind, broken):
    assert evidence.flag_summary(kind, broken)
    assert isinstance(evidence.evidence_details(kind, broken), list)
    evidence.key_figure(kind, broken)  # may be None, must not raise


def test_unknown_kind_falls_back():
    assert evidence.flag_summary("new_kind", {"window": ["2026-06-04", "2026-09-01"]}) == (
        "New kind: the numbers of 4 Jun 2026 to 1 Sep 2026 raised it; see the details below.")


def test_watch_summary():
    item = {"kind": "drift_to_transactional", "since": "2026-07-12",
            "evidence": {"reason": "sponsor_then_readouts", "readouts": 2,
                         "sponsor_change": DRIFT_V2["sponsor_change"]}}
    assert evidence.watch_summary(item) == ("Sofia Reyes became sponsor on 12 Jul 2026, and since then 2 sessions "
                                            "were KPI read-outs; watching for a drift to transactional.")
    generic = {"kind": "one_sided", "since": "2026-08-01", "evidence": V1["one_sided"]}
    assert evidence.watch_summary(generic).startswith(
        "On watch since 1 Aug 2026 (one-sided relationship): The client")
    assert evidence.watch_summary({}) and evidence.watch_summary(None)
