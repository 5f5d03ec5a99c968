"""Evidence as the health engine stores it, for tests of the pages, e-mails and API that show it in words.

The words themselves come from ``health.evidence``; tests compare with what it says in the reader's
language rather than copying its sentences.
"""

# An early sign below a flag: a new sponsor, then KPI read-outs only.
WATCH_ITEM = {"kind": "drift_to_transactional", "since": "2026-02-20",
              "evidence": {"reason": "sponsor_then_readouts", "readouts": 2,
                           "sponsor_change": {"on": "2026-02-12", "new_sponsor": {"name": "Sofia Reyes"}}}}

# A cadence flag: too long without a session.
CADENCE_EVIDENCE = {"days_without_session": 40, "planned_cadence_days": 14, "last_session_on": "2026-01-29",
                    "reasons": ["gap"]}
