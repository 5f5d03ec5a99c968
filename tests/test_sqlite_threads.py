"""The live server's shared in-memory SQLite connection, used by several threads at once."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_threads_sharing_the_in_memory_connection_all_finish():
    """A query calling Python for every row, beside two threads of small queries, on one shared
    connection: with the calls taking turns (tests/sqlite_threads.py) all three finish. Run bare
    (``--unserialized``), the same script deadlocked in 3 runs of 3 when it was written; it runs
    in a process of its own so that a deadlock fails this test instead of hanging the suite."""
    run = subprocess.run([sys.executable, "-m", "tests.sqlite_threads"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    finished = run.stdout.strip().removeprefix("finished: ").split(", ")
    assert sorted(finished) == ["lookups 1", "lookups 2", "trends"]
