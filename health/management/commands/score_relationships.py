"""Score relationship health now, as of a date, or backfill daily snapshots since a date.

    python manage.py score_relationships                      # today, every scored engagement
    python manage.py score_relationships --as-of 2025-06-30
    python manage.py score_relationships --since 2025-01-01   # one snapshot per day up to today
    python manage.py score_relationships --engagement 42      # one engagement, whatever its status
    python manage.py score_relationships --outdated           # re-score what older rules wrote

The same code the nightly Celery run uses, run synchronously in this process.
"""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone
from tqdm import tqdm

from engagements.models import Engagement
from health import scoring, selectors, services
from health.conf import health_config
from health.models import HealthSnapshot

USAGE_ERROR = 2


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, got {value!r}.", returncode=USAGE_ERROR) from None


class Command(BaseCommand):
    help = "Score relationship health as of a date (default today); --since backfills daily snapshots."

    def add_arguments(self, parser):
        # Plain strings, checked below: argparse's own errors print a usage block, not one line.
        parser.add_argument("--as-of", help="Scoring date, YYYY-MM-DD (default: today).")
        parser.add_argument("--since", help="Backfill one snapshot per day from this date to --as-of.")
        parser.add_argument("--engagement", help="Score only this engagement (by id).")
        parser.add_argument("--outdated", action="store_true",
                            help="Re-score, day by day up to --as-of, the engagements whose snapshots an older "
                                 "version of the rules wrote, from the oldest such date.")

    def handle(self, *args, as_of=None, since=None, engagement=None, outdated=False, verbosity=1, **options):
        until = _date("--as-of", as_of) or timezone.localdate()
        since = _date("--since", since)
        if outdated:
            if since is not None:
                raise CommandError("--outdated finds its own start date; leave out --since.", returncode=USAGE_ERROR)
            old = HealthSnapshot.objects.filter(algorithm_version__lt=scoring.ALGORITHM_VERSION, date__lte=until)
            since = old.aggregate(oldest=Min("date"))["oldest"]
            if since is None:
                if verbosity >= 1:
                    self.stdout.write(f"Nothing to re-score: every snapshot up to {until} is from version "
                                      f"{scoring.ALGORITHM_VERSION} of the rules.")
                return
            if engagement is None:
                engagement_ids = sorted(set(old.values_list("engagement_id", flat=True)))
        if since is not None and since > until:
            raise CommandError(f"--since ({since}) is after --as-of ({until}).", returncode=USAGE_ERROR)
        if not outdated:
            engagement_ids = None
        if engagement is not None:
            if not engagement.isdigit() or not Engagement.objects.filter(pk=int(engagement)).exists():
                raise CommandError(f"No engagement with id {engagement!r}.", returncode=USAGE_ERROR)
            engagement_ids = [int(engagement)]
        # disable=None: tqdm hides itself when stderr is not a terminal (cron, CI logs).
        hide_progress = True if verbosity < 1 else None

        if since is None:
            config = health_config()
            ids = engagement_ids or selectors.engagement_ids_to_score(as_of=until, statuses=config.scored_statuses)
            with tqdm(total=len(ids), unit="engagement", disable=hide_progress, file=sys.stderr) as bar:
                result = services.score_portfolio(as_of=until, engagement_ids=ids, on_batch=bar.update)
            days = 1
        else:
            days = (until - since).days + 1
            with tqdm(total=days, unit="day", disable=hide_progress, file=sys.stderr) as bar:
                result = services.backfill(since=since, until=until, engagement_ids=engagement_ids,
                                           on_day=lambda day: (bar.set_postfix_str(day.isoformat()), bar.update()))
        if verbosity >= 1:
            period = str(until) if since is None else f"{since} to {until}"
            self.stdout.write(f"Scored {period}: {result.snapshots} snapshots over {days} day(s), "
                              f"{result.flags_raised} flags raised, {result.flags_resolved} resolved.")
