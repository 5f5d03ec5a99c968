"""Operational endpoints that belong to no app."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("healthz: database unreachable")
        return False


def _broker_ok() -> bool | None:
    """True/False for the Redis broker; None when tasks run in-process (no broker to check)."""
    if not settings.REDIS_URL:
        return None
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("healthz: broker unreachable")
        return False


@never_cache
@require_GET
def healthz(request):
    """For load balancers and the compose health check: 200 when the database and broker answer."""
    database, broker = _database_ok(), _broker_ok()
    healthy = database and broker is not False
    body = {"status": "ok" if healthy else "unavailable", "database": database,
            "broker": "in-process" if broker is None else broker}
    return JsonResponse(body, status=200 if healthy else 503)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the real icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
