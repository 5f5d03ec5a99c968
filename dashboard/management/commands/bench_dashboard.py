"""Benchmark the manager dashboard on a synthetic portfolio (docs/dashboard.md has the numbers).

    DATABASE_URL=postgres://…/rapport_dashbench python manage.py bench_dashboard \
        [--engagements 10000] [--days 365] [--requests 50]

Builds the portfolio in the configured database once (engagements, a year of daily snapshots,
sessions with their consultants, live flags: set-based INSERT … SELECT generate_series on
PostgreSQL, bulk_create elsewhere; then each engagement's latest figures from its snapshots),
then times the dashboard pages server-side through Django's
test client as a signed-in manager — p50 and p95 over ``--requests`` requests, each page as served
from the page cache and "cold" (built from the database, as right after the portfolio changed) —
and the bare login page the same way, as the reference. It writes synthetic rows, so it refuses to run on a
database whose name does not contain "bench" unless given ``--force``.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, ProgrammingError, connection, transaction
from django.test import Client as TestClient
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from dashboard import caching
from engagements.models import Engagement, Session
from health.models import EngagementHealth, Flag, HealthSnapshot
from health.services import engagement_health_refresh

PREFIX = "Bench"
MANAGER_EMAIL = "bench-manager@example.com"


class Command(BaseCommand):
    help = "Build a synthetic portfolio and time the manager dashboard (p50/p95) against the bare login page."

    def add_arguments(self, parser):
        parser.add_argument("--engagements", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=365, help="Daily snapshots per engagement.")
        parser.add_argument("--requests", type=int, default=50, help="Timed requests per page.")
        parser.add_argument("--rebuild", action="store_true", help="Drop the synthetic portfolio and build it again.")
        parser.add_argument("--force", action="store_true", help="Run on a database not named *bench*.")

    def handle(self, *args, **options):
        name = str(connection.settings_dict["NAME"])
        if "bench" not in name and not options["force"]:
            raise CommandError(f"This writes thousands of synthetic rows; the database {name!r} is not a "
                               "*bench* database. Point DATABASE_URL at one, or pass --force.")
        size, days = options["engagements"], options["days"]
        try:
            existing = Engagement.objects.filter(title__startswith=PREFIX).count()
        except (OperationalError, ProgrammingError) as error:
            raise CommandError(f"Cannot read the database {name!r} ({str(error).strip()}). Create it and run "
                               "`manage.py migrate` against it first.") from error
        if options["rebuild"] or existing != size:
            started = time.perf_counter()
            self._clear()
            self._build(size, days)
            self.stdout.write(f"Built {size:,} engagements × {days} daily snapshots "
                              f"in {time.perf_counter() - started:.0f} s.")
        else:
            self.stdout.write(f"Reusing the synthetic portfolio ({existing:,} engagements).")
        if EngagementHealth.objects.count() < size:
            # The scoring run keeps these beside the snapshots; the synthetic snapshots bypass it.
            engagement_health_refresh()
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"ANALYZE {EngagementHealth._meta.db_table}")
        self.stdout.write(f"Snapshots in the database: {HealthSnapshot.objects.count():,}; "
                          f"sessions: {Session.objects.count():,}; live flags: "
                          f"{Flag.objects.filter(status__in=Flag.LIVE_STATUSES).count():,}.")
        self._time_pages(options["requests"])

    # --- Building the portfolio ---------------------------------------------------------------

    def _clear(self):
        with transaction.atomic():
            Engagement.objects.filter(title__startswith=PREFIX).delete()
            Client.objects.filter(name__startswith=PREFIX).delete()
            get_user_model().objects.filter(email__startswith="bench-").delete()

    def _build(self, size: int, days: int):
        User = get_user_model()
        rng = random.Random(7)
        today = timezone.localdate()
        with transaction.atomic():
            User.objects.create_user(MANAGER_EMAIL, "bench-password-not-secret", full_name="Bench Manager",
                                     is_manager=True)
            consultants = User.objects.bulk_create(
                [User(email=f"bench-consultant-{i}@example.com", full_name=f"Bench Consultant {i:02d}",
                      is_consultant=True, password="!") for i in range(50)])
            clients = Client.objects.bulk_create([Client(name=f"{PREFIX} client {i:05d}")
                                                  for i in range(max(1, size // 5))])
            statuses = ["active"] * 18 + ["paused", "closing"]
            engagements = Engagement.objects.bulk_create(
                [Engagement(client=clients[i % len(clients)], title=f"{PREFIX} engagement {i:05d}",
                            start=today - dt.timedelta(days=days + 30), lead=consultants[i % len(consultants)],
                            status=rng.choice(statuses), planned_cadence_days=rng.choice([7, 14, 14, 21]))
                 for i in range(size)], batch_size=5000)
            ids = [e.pk for e in engagements]
        self.stdout.write("  engagements created; inserting snapshots…")
        if connection.vendor == "postgresql":
            self._snapshots_postgresql(min(ids), max(ids), today, days)
            self._sessions_postgresql(min(ids), max(ids), today, days, [c.pk for c in consultants])
        else:
            self._snapshots_bulk(ids, today, days, rng)
        flags = []
        kinds = [k for k, _label in Flag.Kind.choices]
        severity = {"drift_to_transactional": "high", "sponsor_change": "high"}
        for pk in rng.sample(ids, k=max(1, size // 12)):
            kind = rng.choice(kinds)
            raised = today - dt.timedelta(days=rng.randint(0, 60))
            flags.append(Flag(engagement_id=pk, kind=kind, severity=severity.get(kind, rng.choice(["medium", "low"])),
                              evidence=_sample_evidence(kind, raised), raised_on=raised,
                              episode_start=raised, last_seen_on=today))
        Flag.objects.bulk_create(flags, batch_size=5000)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")

    def _snapshots_postgresql(self, first: int, last: int, today: dt.date, days: int):
        # Day-major, as the nightly run writes them. Scores wander smoothly per engagement.
        sql = f"""
            INSERT INTO {HealthSnapshot._meta.db_table}
                (engagement_id, date, score, mode, state, depth, balance, advice_rate, cadence,
                 days_since_last_session, sponsor_presence, client_rating, consultant_rating, perception_gap,
                 delivery, components, algorithm_version, watch)
            SELECT e, d::date, s.score, CASE WHEN s.balance < 0.25 THEN 'expert_led'
                                            WHEN s.balance > 0.75 THEN 'client_led' ELSE 'co_production' END,
                   CASE WHEN s.depth >= 0.5 THEN 'consultative' ELSE 'transactional' END,
                   s.depth, s.balance, 0.4, 0.9, (e + (d::date - %(start)s)) %% 30, 0.5, 4.0, 4.2, 0.2, 0.8,
                   '{{}}'::jsonb, 1, '[]'::jsonb
            FROM generate_series(%(start)s::date, %(today)s::date, interval '1 day') AS d,
                 generate_series(%(first)s, %(last)s) AS e,
                 LATERAL (SELECT
                     greatest(0, least(100, 62 + 25 * sin(e * 0.7 + (d::date - %(start)s) / 45.0)))::float AS score,
                     greatest(0, least(1, 0.55 + 0.4 * sin(e * 1.3 + (d::date - %(start)s) / 60.0)))::float AS depth,
                     greatest(0, least(1, 0.5 + 0.45 * cos(e * 0.9 + (d::date - %(start)s) / 80.0)))::float AS balance
                 ) AS s
            ORDER BY d, e
        """  # noqa: S608 (table names from model meta; values travel as parameters)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"start": today - dt.timedelta(days=days - 1), "today": today,
                                 "first": first, "last": last})

    def _sessions_postgresql(self, first: int, last: int, today: dt.date, days: int, consultant_ids: list[int]):
        # About one session a fortnight per engagement, each attended by one consultant.
        focuses = [f for f, _label in Session.Focus.choices]
        with connection.cursor() as cursor:
            cursor.execute(f"""
                INSERT INTO {Session._meta.db_table}
                    (engagement_id, start, duration_minutes, channel, focus, initiated_by, advice_requested, notes,
                     next_steps, shared_with_client, version, created_at, updated_at)
                SELECT e, %(today)s::timestamptz - (k * 14 + e %% 14) * interval '1 day' + interval '10 hours',
                       30 + (e + k) %% 4 * 30, 'meeting', (%(focuses)s::text[])[1 + (e * 7 + k * 3) %% 8],
                       CASE WHEN (e + k) %% 3 = 0 THEN 'client' ELSE 'consultant' END, (e + k) %% 2 = 0, '', '',
                       false, 1, now(), now()
                FROM generate_series(%(first)s, %(last)s) AS e, generate_series(0, %(per)s) AS k
            """, {  # noqa: S608 (table names from model meta; values travel as parameters)
                "today": today, "focuses": focuses, "first": first, "last": last, "per": days // 14})
            through = Session.consultants.through._meta.db_table
            cursor.execute(f"""
                INSERT INTO {through} (session_id, user_id)
                SELECT s.id, (%(consultants)s::bigint[])[1 + s.engagement_id %% %(n)s]
                FROM {Session._meta.db_table} s
                WHERE s.engagement_id BETWEEN %(first)s AND %(last)s
            """, {  # noqa: S608 (table names from model meta; values travel as parameters)
                "consultants": consultant_ids, "n": len(consultant_ids), "first": first, "last": last})

    def _snapshots_bulk(self, ids: list[int], today: dt.date, days: int, rng: random.Random):
        batch = []
        for offset in range(days):
            day = today - dt.timedelta(days=offset)
            for pk in ids:
                depth, balance = rng.random(), rng.random()
                batch.append(HealthSnapshot(
                    engagement_id=pk, date=day, score=rng.uniform(20, 95), depth=depth, balance=balance,
                    mode="expert_led" if balance < 0.25 else "client_led" if balance > 0.75 else "co_production",
                    state="consultative" if depth >= 0.5 else "transactional",
                    days_since_last_session=rng.randint(0, 40), algorithm_version=1))
                if len(batch) >= 20_000:
                    HealthSnapshot.objects.bulk_create(batch)
                    batch = []
        HealthSnapshot.objects.bulk_create(batch)

    # --- Timing -------------------------------------------------------------------------------

    def _time_pages(self, requests: int):
        manager = get_user_model().objects.get(email=MANAGER_EMAIL)
        signed_in, anonymous = TestClient(), TestClient()
        signed_in.force_login(manager)
        home = reverse("dashboard:home")
        # Each dashboard view twice: as a manager meets it between two changes of the portfolio
        # (served from the page cache), and right after a change (the version moved before each
        # request, so the page is built from the database every time).
        pages = []
        for label, url in (("dashboard (portfolio + map)", home),
                           ("dashboard filtered: transactional", home + "?state=transactional"),
                           ("dashboard sorted by 90-day change, page 3", home + "?sort=change_90&page=3")):
            pages.append((label, signed_in, url, {}))
            pages.append((f"{label}, cold", signed_in, url, {}))
        pages += [
            ("trends (HTMX partial)", signed_in, reverse("dashboard:trends"), {"HX-Request": "true"}),
            ("trends (HTMX partial), cold", signed_in, reverse("dashboard:trends"), {"HX-Request": "true"}),
            ("flag queue", signed_in, reverse("dashboard:flags"), {}),
            ("bare login page (reference)", anonymous, reverse("accounts:login"), {}),
        ]
        # Measure the server, not the static-files manifest or an HTTPS redirect.
        with override_settings(STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                                         "staticfiles": {"BACKEND":
                                                         "django.contrib.staticfiles.storage.StaticFilesStorage"}},
                               SECURE_SSL_REDIRECT=False, DEBUG=False, MFA_REQUIRED_FOR_MANAGERS=False):
            results = {}
            for label, client, url, headers in pages:
                for _warm in range(3):
                    self._get(client, url, headers)
                cold = label.endswith("cold")
                if cold:
                    self._forget()
                counter = QueryCounter()
                with connection.execute_wrapper(counter):
                    self._get(client, url, headers)
                timings = []
                for _i in range(requests):
                    if cold:
                        self._forget()
                    started = time.perf_counter()
                    self._get(client, url, headers)
                    timings.append((time.perf_counter() - started) * 1000)
                results[label] = (percentile(timings, 50), percentile(timings, 95), counter.count)
        reference = results["bare login page (reference)"][1]
        self.stdout.write(f"\nServer time over {requests} requests ({connection.vendor}; \"cold\": the page cache "
                          "emptied and the portfolio version moved before each request):")
        self.stdout.write(f"  {'page':<52} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'p95 / login':>12}")
        for label, (p50, p95, count) in results.items():
            self.stdout.write(f"  {label:<52} {p50:8.1f} {p95:8.1f} {count:8d} {p95 / reference:11.1f}×")

    @staticmethod
    def _forget():
        """Make the next request compute what the caches spare the other visits."""
        cache.clear()
        caching.portfolio_changed()

    @staticmethod
    def _get(client, url, headers):
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        return response


class QueryCounter:
    """Counts the SQL statements a request runs (an execute wrapper, unaffected by DEBUG)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _sample_evidence(kind: str, raised: dt.date) -> dict:
    """Evidence shaped like what the engine stores for each kind, so the flag cards are put in words
    the way a real portfolio's are (not through the fallback for evidence it cannot read)."""
    since = (raised - dt.timedelta(days=40)).isoformat()
    return {
        "drift_to_transactional": {
            "v": 2, "since": since, "last_advice_on": since,
            "recent": {"sessions": 6, "readouts": 5, "consultative": 1, "advice": 0, "mean_minutes": 35},
            "before": {"consultative_share": 0.7, "mean_minutes": 60},
            "kpi": {"reports_without_conversation": 3}},
        "sponsor_change": {"changes": [{"on": since, "new_sponsor": "Sofia Reyes",
                                        "previous_sponsor": "Marc Dubois"}]},
        "cadence_drop": {"days_without_session": 40, "planned_cadence_days": 14, "last_session_on": since,
                         "reasons": ["gap"]},
        "feedback_decline": {"mean_rating_window": 3.2, "mean_rating_baseline": 4.4, "responses_window": 3},
        "one_sided": {"client_events": 2, "events": 20, "balance": 0.1, "mode": "expert_led"},
        "milestone_slippage": {"due": 5, "late": 3, "on_time": 2, "late_share": 0.6},
        "perception_gap": {"consultant_rating": 4.5, "client_rating": 3.0, "gap": 1.5, "consultant_responses": 3,
                           "client_responses": 2},
    }[kind]
