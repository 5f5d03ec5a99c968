"""The throwaway database ``evaluate_health`` runs in.

The command never touches the database in settings: for its run, Django's default connection is
pointed at a fresh SQLite database (in memory, or a new file with ``--keep-database``), its tables
are created from the models, and afterwards the connection goes back to the configured database
as it was. SQLite whatever the configured database is: the run is single-threaded and in memory
it is fast; the engine's reads are the same SQL on both (``health.selectors._batch_sql``).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import override_settings


@contextlib.contextmanager
def throwaway_database(path: Path | None = None) -> Iterator[str]:
    """Point the default connection at a new, migrated SQLite database for the block; yields its name."""
    if path is not None and path.exists():
        raise FileExistsError(f"{path} already exists; give a new file to keep the evaluation database in.")
    saved = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    connections[DEFAULT_DB_ALIAS].close()
    name = str(path) if path is not None else ":memory:"
    connections.settings[DEFAULT_DB_ALIAS] = {
        **saved, "ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": {}, "USER": "", "PASSWORD": "",
        "HOST": "", "PORT": "", "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_MAX_AGE": 0,
        "TEST": {**saved.get("TEST", {}), "NAME": None}}
    del connections[DEFAULT_DB_ALIAS]
    try:
        # The tables straight from the models (as ``pytest --nomigrations`` does): an empty database
        # needs none of the data migrations, and replaying sixty migrations costs seconds.
        with override_settings(MIGRATION_MODULES={app.label: None for app in apps.get_app_configs()}):
            call_command("migrate", verbosity=0, interactive=False, skip_checks=True, run_syncdb=True)
        yield name
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        del connections[DEFAULT_DB_ALIAS]
        connections.settings[DEFAULT_DB_ALIAS] = saved
