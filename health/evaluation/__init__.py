"""The evaluation harness of the health engine (``manage.py evaluate_health``; docs/health.md, Evaluation).

- ``stories``: a labelled synthetic portfolio, as plain data (who met whom, when, about what), from
  a seed; no database.
- ``replay``: writes those events through the real services, day by day, and runs the nightly
  scoring after each replayed day.
- ``rules_only``: the rules alone on facts a replay recorded (``--keep-facts``, ``--rules-only``).
- ``metrics``: turns the labels and what the engine stored (flags, latest figures) into the
  measures of the issue's table, and checks its targets.
- ``database``: the throwaway database the command runs in.
- ``oracle``: how early a detector that knew every story's parameters could see each slide, at the
  same false-alarm rate: a bound on what any rules can do on these stories (``python -m
  health.evaluation.oracle``).
"""
