"""The shared cache: Django's Redis cache, made to degrade to a miss when Redis does not answer.

Several web processes (and machines) share one cache so that what must agree between them does:
the API throttles' counters, the dashboard's page cache, the trends. A cache is never where
anything is kept for good, so a Redis that is down, restarting or slow must cost a cache miss,
never an error page. Django's ``RedisCache`` raises on a refused connection or a timeout; this
subclass catches any Redis error, logs it once per outage, and answers as an empty cache would:
``get`` gives the default, ``add`` and ``touch`` False, ``set`` stores nothing.

After a failure it does not ask Redis again for ``DOWN_RETRY_SECONDS`` (an option of the cache,
default 5): a Redis that hangs would otherwise cost each request one socket timeout per cache call.
The first call after that pause tries again; when it succeeds, the recovery is logged.

``clear()`` removes this site's keys only (those under its key prefix), never the whole Redis
database, which another application (or the test run of a colleague) may share.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_MISSING = object()


class ResilientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` where an unreachable Redis is a cache miss."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.down_retry_seconds = float(options.pop("DOWN_RETRY_SECONDS", 5))
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0  # monotonic time before which Redis is not asked again
        self._down_since: float | None = None
        self._lock = threading.Lock()

    # --- the outage bookkeeping ---------------------------------------------------------------

    def _available(self) -> bool:
        return self._down_since is None or time.monotonic() >= self._down_until

    def _failed(self, operation: str, error: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            now = time.monotonic()
            if first:
                self._down_since = now
            self._down_until = now + self.down_retry_seconds
        if first:
            logger.warning("cache: Redis unavailable (%s on %s: %s); serving without the cache, retrying every %g s",
                           type(error).__name__, operation, error, self.down_retry_seconds)

    def _succeeded(self) -> None:
        if self._down_since is not None:
            with self._lock:
                since, self._down_since = self._down_since, None
            if since is not None:
                logger.warning("cache: Redis answers again after %.0f s", time.monotonic() - since)

    def _call(self, operation: str, fallback, *args, **kwargs):
        if not self._available():
            return fallback
        try:
            result = getattr(super(), operation)(*args, **kwargs)
        except RedisError as error:
            self._failed(operation, error)
            return fallback
        self._succeeded()
        return result

    # --- the cache API ------------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        result = self._call("incr", _MISSING, key, delta, version)
        if result is _MISSING:  # as for a key that is not there: the documented ValueError
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def clear(self):
        """Delete this site's keys (its key prefix), not everything in the Redis database."""
        if not self._available():
            return False
        # Django's keys are "<prefix>:<version>:<key>"; only those are ours.
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + ":*"
        try:
            client = self._cache.get_client(None, write=True)
            batch = []
            for key in client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        except RedisError as error:
            self._failed("clear", error)
            return False
        self._succeeded()
        return True
