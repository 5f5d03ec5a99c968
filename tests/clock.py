"""The test suite's clock: the real one, or one moved to ``RAPPORT_TEST_NOW`` for the whole run.

CI runs the date-sensitive suites a second time with the clock moved (to a year end and to a
29th of February, see .ci/run), so a test that passes only on the day it was written fails there
instead of on some later morning. The clock is moved with time-machine, which patches the C-level
time functions: it covers every thread of the process (the live server's included), and it keeps
ticking, so timeouts and expiries behave as they do in real time.

Processes the tests start (Celery workers) are moved too: ``python -m tests.clock <argv>`` starts
the clock where the parent's is now, then runs the command's module in-process.
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys

import time_machine

ENVIRONMENT_VARIABLE = "RAPPORT_TEST_NOW"


def moved_to() -> dt.datetime | None:
    """The moment the suite's clock starts at, from RAPPORT_TEST_NOW (ISO 8601, UTC if naive)."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{ENVIRONMENT_VARIABLE}={value!r} is not an ISO 8601 date or time "
                         "(e.g. 2028-02-29T09:00:00+00:00).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def start() -> time_machine.travel | None:
    """Move this process's clock to RAPPORT_TEST_NOW, if it is set; returns the traveller to stop."""
    moment = moved_to()
    if moment is None:
        return None
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    return traveller


def command(argv: list[str]) -> list[str]:
    """``argv`` (``[sys.executable, "-m", module, ...]``) run on this process's clock when it is moved."""
    if moved_to() is None:
        return argv
    return [argv[0], "-m", "tests.clock", *argv[1:]]


def environment(env: dict[str, str]) -> dict[str, str]:
    """A child process's environment carrying this process's (moved) time, so it starts where we are."""
    if moved_to() is None:
        return env
    return {**env, ENVIRONMENT_VARIABLE: dt.datetime.now(dt.UTC).isoformat()}


if __name__ == "__main__":  # python -m tests.clock -m celery -A config worker ...
    start()
    if len(sys.argv) < 3 or sys.argv[1] != "-m":
        raise SystemExit("usage: python -m tests.clock -m <module> [args...]")
    module = sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
