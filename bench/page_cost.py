"""What one request costs the server alone, on the load database: queries and time, best of N.

    DATABASE_URL=postgres://…/rapport_load DJANGO_SECRET_KEY=… python bench/page_cost.py [--runs 5] [--sql]

Django's test client, in this process, with the production settings minus the HTTPS redirect and
the static-files manifest. For each page: the number of SQL statements and the best / median of
``--runs`` timed requests after two warm-up ones. The consultant engagement page is timed on the
load consultant's richest engagement (most sessions); the manager pages as a load manager. "Cold"
means the page cache emptied and the portfolio version moved before each request (as the first
visit after anyone changed something). "CPU ms" is this process's CPU time alone (Django, not
PostgreSQL): on a machine shared with other work it moves far less than the wall-clock time.
``--sql`` prints each page's statements. It only reads (the version row aside), so it may run
against the load database between two load tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402

from accounts.models import Authenticator, User  # noqa: E402
from dashboard import caching  # noqa: E402
from engagements.models import Engagement  # noqa: E402


def _forget() -> None:
    cache.clear()
    caching.portfolio_changed()  # on_commit: autocommit here, so the version moves at once


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()

    consultant = User.objects.filter(email__startswith="consultant", email__endswith="@load.example").order_by("id")[0]
    engagement = (Engagement.objects.filter(lead=consultant).exclude(status="closed")
                  .annotate(n=Count("sessions")).order_by("-n", "id").first())
    manager = User.objects.filter(email__startswith="manager", email__endswith="@load.example").order_by("id")[0]
    as_consultant, as_manager = Client(), Client()
    as_consultant.force_login(consultant)
    as_manager.force_login(manager)
    # The load managers have an authenticator: mark the session as having passed it (django-otp).
    device = Authenticator.objects.filter(user=manager, confirmed=True).first()
    if device is not None:
        session = as_manager.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    pages = [
        (f"consultant: engagement {engagement.pk} ({engagement.n} sessions)", as_consultant,
         reverse("engagements:detail", args=[engagement.pk]), False),
        ("consultant: home", as_consultant, reverse("engagements:home"), False),
        ("manager: engagement (with the audit trail)", as_manager,
         reverse("engagements:detail", args=[engagement.pk]), False),
        ("manager: flag queue", as_manager, reverse("dashboard:flags"), False),
        ("manager: dashboard, cold", as_manager, reverse("dashboard:home"), True),
        ("manager: dashboard, from the page cache", as_manager, reverse("dashboard:home"), False),
    ]
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages, SECURE_SSL_REDIRECT=False, DEBUG=False, MFA_REQUIRED_FOR_MANAGERS=False):
        print(f"{'page':<58} {'queries':>7} {'best ms':>8} {'median ms':>9} {'best CPU ms':>11}")
        for label, client, url, cold in pages:
            for _ in range(2):
                client.get(url)
            timings, cpu = [], []
            for _ in range(args.runs):
                if cold:
                    _forget()
                with CaptureQueriesContext(connection) as queries:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            count = len(queries.captured_queries)
            print(f"{label:<58} {count:>7} {min(timings):8.1f} {statistics.median(timings):9.1f} {min(cpu):11.1f}")
            if args.sql:
                for query in queries.captured_queries:
                    print(f"    {query['time']}s {query['sql'][:300]}")


if __name__ == "__main__":
    main()
