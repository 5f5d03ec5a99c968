"""Settings read from the environment reject bad values with a clear message."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool, env_int, env_list


def test_env_bool_accepts_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "0")
    assert env_bool("FLAG", default=True) is False


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        env_bool("FLAG", default=False)


def test_env_int_rejects_words_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("PORT_NUMBER", "eighty")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("PORT_NUMBER", 25)
    monkeypatch.setenv("PORT_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("PORT_NUMBER", 25, minimum=1)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def _check(env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "MFA_ENCRYPTION_KEYS"))}
    return subprocess.run([sys.executable, "manage.py", "check"], env={**clean, **env}, capture_output=True,
                          text=True, timeout=60)


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_malformed_boolean_stops_startup_with_its_name():
    result = _check({"DJANGO_DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_the_embedded_default_starts_with_no_configuration():
    assert _check({}).returncode == 0


def test_production_refuses_a_weak_secret_key():
    result = _check({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "short-and-guessable",
                     "DJANGO_ALLOWED_HOSTS": "rapport.example.com"})
    assert result.returncode != 0
    assert "too weak for production" in result.stderr


def test_production_refuses_to_start_without_a_key_for_two_factor_secrets():
    production = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 30 + "abcdefghij" * 3,
                  "DJANGO_ALLOWED_HOSTS": "rapport.example.com"}
    result = _check(production)
    assert result.returncode != 0 and "MFA_ENCRYPTION_KEYS is not set" in result.stderr
    result = _check({**production, "MFA_ENCRYPTION_KEYS": "not-a-fernet-key"})
    assert result.returncode != 0 and "MFA_ENCRYPTION_KEYS must list Fernet keys" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _check({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 30 + "abcdefghij" * 3})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_logging_writes_to_the_current_stdout_even_after_the_one_it_started_with_was_closed(capsys):
    """Pytest swaps stdout per test and closes the old one; a log line from a later thread (the live
    test server's) once printed "--- Logging error --- ValueError: I/O operation on closed file"."""
    import io
    import logging
    import threading

    handler = logging.getLogger().handlers[0]
    logger = logging.getLogger("rapport.test")
    first = io.StringIO()
    sys.stdout = first
    try:
        logger.warning("to the first stream")
        first.close()
        second = io.StringIO()
        sys.stdout = second
        thread = threading.Thread(target=logger.warning, args=("from another thread",))
        thread.start()
        thread.join()
        assert "from another thread" in second.getvalue()
    finally:
        sys.stdout = sys.__stdout__
    assert type(handler).__name__ == "StdoutHandler"
    assert "Logging error" not in capsys.readouterr().err


def test_every_task_on_the_beat_schedule_is_one_a_worker_knows(settings):
    """A task renamed or moved to another app must take its beat entry along: beat would otherwise
    queue a name no worker runs, and the job would silently stop."""
    from config.celery import app

    app.loader.import_default_modules()  # each app's tasks.py, as a worker loads them
    unknown = {entry: schedule["task"] for entry, schedule in settings.CELERY_BEAT_SCHEDULE.items()
               if schedule["task"] not in app.tasks}
    assert not unknown
