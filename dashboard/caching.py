"""The dashboard's page cache, and what keeps it honest.

The portfolio page costs about 100 ms to build on a 10,000-engagement portfolio (docs/dashboard.md,
Benchmark) and its figures move only when health is scored, a flag changes or an engagement,
client or person is edited. So the rendered portfolio (everything between the navigation and the
footer, which holds no CSRF token and nothing else tied to the session) is cached per manager,
language, time zone, day and query string, under the current ``PortfolioVersion``:

- every commit that may change what the page shows moves the version (``portfolio_changed``,
  connected in ``DashboardConfig.ready`` to ``health.signals.health_changed`` and to the saves and
  deletions of engagements, clients and people), so the next visit builds the page afresh;
- the version is read from the database (one indexed row per request), so it is right in every
  process whatever cache backend is configured: a per-process memory cache simply builds the page
  once per process and version;
- entries expire after ``PAGE_CACHE_SECONDS`` in any case, a safety net for a change made outside
  the application (a hand-written SQL fix, a restored backup).
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from dashboard.models import PortfolioVersion

logger = logging.getLogger(__name__)

PAGE_CACHE_SECONDS = 10 * 60


def portfolio_version() -> int:
    """The current version (0 before the first change)."""
    return PortfolioVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def portfolio_changed(**_signal_kwargs) -> None:
    """Move the version once the current transaction commits (at once outside one).

    After the commit, not inside it: a page built between the commit and the move is stored under
    the old version, which nobody asks for any more; and the single row is never locked for the
    length of a user's transaction. Usable as a signal receiver.
    """
    transaction.on_commit(_move_version, robust=True)


def _move_version() -> None:
    now = timezone.now()
    if not PortfolioVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=now):
        PortfolioVersion.objects.get_or_create(pk=1, defaults={"version": 1, "changed_at": now})


def page_key(request, page: str) -> str:
    """The cache key of a page as ``request`` asks for it, under the current portfolio version."""
    query = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return (f"dashboard:{page}:v{portfolio_version()}:u{request.user.pk}:{translation.get_language()}:"
            f"{timezone.get_current_timezone_name()}:{timezone.localdate().isoformat()}:{query}")


def cached_fragment(key: str, build) -> str:
    """The HTML cached under ``key``, or ``build()``'s, stored for the next visit."""
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, PAGE_CACHE_SECONDS)
    return html
