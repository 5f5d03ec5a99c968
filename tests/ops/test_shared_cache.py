"""The shared cache (config/cache.py, settings' Cache section): Redis when REDIS_URL is set, on its own
database and key prefix; a Redis that does not answer is a cache miss, logged once, never an error."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.cache import ResilientRedisCache
from config.settings import _cache_url
from tests.reliability.support import ROOT, free_port


def test_the_cache_url_is_the_brokers_redis_with_the_next_database():
    assert _cache_url("redis://redis:6379/0") == "redis://redis:6379/1"
    assert _cache_url("redis://redis:6379") == "redis://redis:6379/1"
    assert _cache_url("rediss://:s3cret@cache.example:6380/4?ssl_cert_reqs=required") == \
        "rediss://:s3cret@cache.example:6380/5?ssl_cert_reqs=required"
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        _cache_url("memory://")


def _caches(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CACHE_"))}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(repr(settings.CACHES['default']))"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env}, capture_output=True, text=True,
        timeout=60)
    return result.stdout + result.stderr


def test_the_embedded_run_keeps_the_per_process_memory_cache():
    assert "LocMemCache" in _caches({})


def test_with_a_broker_the_cache_is_shared_in_redis_under_a_prefix():
    caches = _caches({"REDIS_URL": "redis://redis:6379/0"})
    assert "config.cache.ResilientRedisCache" in caches and "'redis://redis:6379/1'" in caches
    assert "'KEY_PREFIX': 'rapport'" in caches and "'socket_timeout': 0.5" in caches
    caches = _caches({"REDIS_URL": "redis://redis:6379/0", "CACHE_URL": "redis://cache:6379/3",
                      "CACHE_KEY_PREFIX": "firm-a"})
    assert "'redis://cache:6379/3'" in caches and "'KEY_PREFIX': 'firm-a'" in caches
    assert "CACHE_URL must be a redis://" in _caches({"CACHE_URL": "memcached://cache:11211"})


def _cache(url: str, **options) -> ResilientRedisCache:
    return ResilientRedisCache(url, {"KEY_PREFIX": "rapport-test", "OPTIONS": {
        "socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options}})


def test_an_unreachable_redis_is_a_cache_miss_logged_once(caplog):
    cache = _cache(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        assert cache.get("page", "default") == "default"
        assert cache.set("page", "<html>", 60) is None
        assert cache.add("page", "<html>", 60) is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert cache.has_key("page") is False
        assert cache.touch("page") is False
        assert cache.delete("page") is False
        assert cache.get_or_set("page", "built", 60) == "built"
        with pytest.raises(ValueError):
            cache.incr("page")
        assert cache.clear() is False
    warnings = [r for r in caplog.records if r.name == "config.cache"]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0].getMessage()


def test_after_a_failure_redis_is_not_asked_again_for_a_while(monkeypatch):
    cache = _cache(f"redis://127.0.0.1:{free_port()}/0", DOWN_RETRY_SECONDS=30)
    assert cache.get("page") is None
    tried = []
    monkeypatch.setattr(cache._cache, "get_client", lambda *a, **k: tried.append(a) or pytest.fail("asked Redis"))
    for _ in range(20):
        assert cache.get("page") is None
        cache.set("page", "<html>")
    assert not tried


def test_with_redis_the_cache_works_survives_an_outage_and_clears_only_its_keys(redis_server, caplog):
    cache = _cache(redis_server.url, DOWN_RETRY_SECONDS=0)
    other = redis_server.client()
    other.set("celery-like-key", "not ours")
    cache.set("page", {"html": "<p>ok</p>"}, 60)
    assert cache.get("page") == {"html": "<p>ok</p>"}
    assert cache.add("page-count", 1) is True and cache.add("page-count", 5) is False
    assert cache.incr("page-count") == 2

    with caplog.at_level(logging.WARNING, logger="config.cache"):
        redis_server.stop()
        assert cache.get("page", "miss") == "miss"
        cache.set("page", "stored nowhere")
        redis_server.start()  # the same port, restarted from its append-only file
        assert cache.get("page") == {"html": "<p>ok</p>"}
    messages = [r.getMessage() for r in caplog.records if r.name == "config.cache"]
    assert len(messages) == 2 and "unavailable" in messages[0] and "answers again" in messages[1]

    assert cache.clear() is True
    assert cache.get("page") is None and cache.get("page-count") is None
    assert other.get("celery-like-key") == b"not ours"  # clear() leaves what is not the cache's alone
