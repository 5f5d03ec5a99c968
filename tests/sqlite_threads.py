"""One thread at a time on the shared in-memory SQLite connection of a live-server test.

On the embedded default (``make test`` without ``DATABASE_URL``) the test database is SQLite in
memory, and Django's live server hands its one connection to every request thread (an in-memory
database exists only for the connection that made it). A browser fires several requests at once
(a page, then its htmx fragments and lazy charts), so two threads use that connection together,
and Python's sqlite3 module can deadlock on it: one thread, inside ``sqlite3_step``, calls back
into Python for one of the SQL functions Django registers (``django_datetime_trunc`` and the
like: the dashboard's trends use them) and waits for the GIL while holding the connection's
mutex; the other holds the GIL and waits for that mutex to bind a parameter or read a column.
Seen as a ``make test`` that hung for good in tests/browser/test_dashboard.py (py-spy: one request
thread in ``func_callback`` under ``sqlite3_step``, another in ``bind_param`` under
``pthread_mutex_lock``).

``serialized_sqlite()`` takes a lock around every call that reaches SQLite through the
connection (execute, fetch, close, commit, rollback), in whichever thread: waiting for a Python
lock gives the GIL up, so the thread inside SQLite can always finish. PostgreSQL (CI) gives each
thread its own connection and needs none of this.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator

CURSOR_METHODS = ("execute", "executemany", "fetchone", "fetchmany", "fetchall", "close", "__next__")
# Savepoints go through cursor.execute; commit and rollback call the sqlite3 connection directly.
CONNECTION_METHODS = ("_commit", "_rollback")


@contextlib.contextmanager
def serialized_sqlite() -> Iterator[bool]:
    """Within the block, SQLite calls through Django's connection take turns across threads.

    Yields whether it applied (an in-memory SQLite default database); elsewhere it changes nothing.
    """
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield False
        return
    from django.db.backends.sqlite3 import base

    lock = threading.RLock()
    patched = []
    for cls, names in ((base.SQLiteCursorWrapper, CURSOR_METHODS), (base.DatabaseWrapper, CONNECTION_METHODS)):
        for name in names:
            original = getattr(cls, name)
            own = name in vars(cls)

            def locked(*args, __original=original, **kwargs):
                with lock:
                    return __original(*args, **kwargs)

            setattr(cls, name, functools.wraps(original)(locked))
            patched.append((cls, name, original, own))
    try:
        yield True
    finally:
        for cls, name, original, own in reversed(patched):
            if own:
                setattr(cls, name, original)
            else:
                delattr(cls, name)


def _share_one_connection(serialize: bool) -> list[str]:
    """Three threads on one in-memory connection, as a live server shares it: one runs a query that
    calls back into Python for every row, two run small queries with parameters. Returns the names
    of the threads that finished within 20 s (a deadlocked one never does)."""
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE shared (id integer PRIMARY KEY, at datetime)")
        cursor.executemany("INSERT INTO shared (at) VALUES (%s)",
                           [(f"2025-{i % 12 + 1:02d}-01 10:00:00",) for i in range(5000)])
    connection.inc_thread_sharing()
    shared, finished = connections["default"], []

    def trends():
        connections["default"] = shared
        for _ in range(10):
            with connection.cursor() as cursor:
                cursor.execute("SELECT django_datetime_trunc('month', at, 'UTC', 'UTC'), COUNT(*) "
                               "FROM shared GROUP BY 1")
                cursor.fetchall()
        finished.append("trends")

    def lookups(name):
        connections["default"] = shared
        for i in range(5000):
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM shared WHERE id = %s", [i])
                cursor.fetchone()
        finished.append(name)

    with serialized_sqlite() if serialize else contextlib.nullcontext():
        threads = [threading.Thread(target=trends, daemon=True),
                   *(threading.Thread(target=lookups, args=(f"lookups {n}",), daemon=True) for n in (1, 2))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    return finished


if __name__ == "__main__":  # python -m tests.sqlite_threads [--unserialized]: tests/test_sqlite_threads.py runs it
    import os
    import sys

    import django
    from django.conf import settings

    settings.configure(DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                                              "NAME": "file:shared?mode=memory&cache=shared"}}, USE_TZ=True)
    django.setup()
    done = _share_one_connection(serialize="--unserialized" not in sys.argv)
    print("finished:", ", ".join(done) or "none", flush=True)
    os._exit(0 if len(done) == 3 else 1)  # a deadlocked thread would keep a normal exit waiting
