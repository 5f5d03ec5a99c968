"""The backup/restore round trip: `make backup`, restore into a fresh database, same rows."""

import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _url(settings_dict, name):
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _row_counts(url):
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  (names come from pg_tables)
            counts[table] = cursor.fetchone()[0]
    conn.close()
    return counts


@pytest.fixture
def fresh_database():
    settings_dict = connection.settings_dict
    name = f"rapport_restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(_url(settings_dict, "postgres"))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    yield _url(settings_dict, name)
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_backup_restores_into_a_fresh_database_with_the_same_rows(tmp_path, fresh_database):
    if connection.vendor != "postgresql":
        pytest.skip("backup/restore is for PostgreSQL: run with DATABASE_URL=postgres://…")
    engagement = factories.EngagementFactory()
    factories.SessionFactory.create_batch(5, engagement=engagement)
    factories.MilestoneCommentFactory.create_batch(3, milestone__engagement=engagement)
    source = _url(connection.settings_dict, connection.settings_dict["NAME"])
    dump = tmp_path / "rapport.dump"

    subprocess.run(["make", "-s", "backup", f"BACKUP_FILE={dump}"], cwd=ROOT, check=True,
                   env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DATABASE_URL": source}, timeout=120)
    assert dump.stat().st_size > 0
    subprocess.run(["make", "-s", "restore", f"BACKUP_FILE={dump}"], cwd=ROOT, check=True,
                   env={"PATH": "/usr/bin:/bin:/usr/local/bin", "DATABASE_URL": fresh_database}, timeout=120)

    before, after = _row_counts(source), _row_counts(fresh_database)
    assert after == before
    assert after["engagements_session"] == 5 and after["engagements_milestonecomment"] == 3


def test_restore_refuses_a_missing_file():
    result = subprocess.run(["ops/restore.sh", "/nonexistent.dump"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x@127.0.0.1/none"})
    assert result.returncode == 2 and "no such file" in result.stderr
