"""The dashboard's page cache, and what keeps it honest.

The portfolio page costs 60–100 ms to build on a 10,000-engagement portfolio (docs/dashboard.md,
Benchmark) and its figures move only when health is scored, a flag changes or an engagement,
client or person is edited. So the rendered portfolio (everything between the navigation and the
footer, which holds no CSRF token and nothing else tied to the session) is cached per manager,
language, time zone, day and query string, and checked against the ``PortfolioVersion`` row
(one indexed read per visit) before it is served:

- what people do (edit an engagement, a client or a person; acknowledge, snooze, assign, resolve
  or dismiss a flag) moves ``version``, which is part of the cache key: the next visit, by anyone,
  builds the page afresh, so a manager who resolves a flag never sees it again on the dashboard;
- scoring runs (the nightly run, and the rescore queued after every logged session, comment or
  feedback) move ``rescored_version``. A page built less than ``RESCORE_GRACE_SECONDS`` ago is
  still served after one: on a busy day sessions are rescored every few seconds, and rebuilding
  the whole portfolio for each would leave the cache useless. Scores are at most that much behind.

Both move after the commit, not inside it: a page built between the commit and the move is
stored under the old numbers, and the single row is never locked for the length of a user's
transaction. They live in the database, so every process (web, Celery worker, command) agrees
on them whatever cache backend is configured: with ``REDIS_URL`` set the cache is shared in Redis
(config/cache.py), so a page built by one web node is served by all of them; the embedded run's
per-process memory cache simply builds a page once per process; and a Redis that does not answer
makes every visit a miss, built from the database. Entries expire after ``PAGE_CACHE_SECONDS`` in
any case, a safety net for a change made outside the application (a hand-written SQL fix, a
restored backup).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from dashboard.models import PortfolioVersion

PAGE_CACHE_SECONDS = 10 * 60
RESCORE_GRACE_SECONDS = 60


def portfolio_versions() -> tuple[int, int]:
    """``(version, rescored_version)``, both 0 before the first change (one query)."""
    return PortfolioVersion.objects.filter(pk=1).values_list("version", "rescored_version").first() or (0, 0)


def portfolio_changed(**_signal_kwargs) -> None:
    """People changed something the dashboard shows: every cached page is stale once this commits."""
    transaction.on_commit(lambda: _move("version", "changed_at"), robust=True)


def portfolio_rescored(**_signal_kwargs) -> None:
    """A scoring run changed stored health: cached pages may lag by up to ``RESCORE_GRACE_SECONDS``."""
    transaction.on_commit(lambda: _move("rescored_version", "rescored_at"), robust=True)


def _move(counter: str, stamp: str) -> None:
    now = timezone.now()
    if not PortfolioVersion.objects.filter(pk=1).update(**{counter: F(counter) + 1, stamp: now}):
        PortfolioVersion.objects.get_or_create(pk=1, defaults={counter: 1, stamp: now})


def _now() -> float:
    return time.time()


def cached_page(request, page: str, build: Callable[[], str]) -> str:
    """The HTML of ``page`` as ``request`` asks for it: from the cache while it is current, else ``build()``'s."""
    version, rescored = portfolio_versions()
    query = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    key = (f"dashboard:{page}:v{version}:u{request.user.pk}:{translation.get_language()}:"
           f"{timezone.get_current_timezone_name()}:{timezone.localdate().isoformat()}:{query}")
    entry = cache.get(key)
    now = _now()
    if entry is not None:
        html, built_rescored, built_at = entry
        if built_rescored == rescored or now - built_at < RESCORE_GRACE_SECONDS:
            return html
    html = build()
    cache.set(key, (html, rescored, now), PAGE_CACHE_SECONDS)
    return html
