"""Evaluate the health engine on a labelled synthetic portfolio (docs/health.md, Evaluation).

    python manage.py evaluate_health                     # seed 1, 40 engagements, 240 nights
    python manage.py evaluate_health --seed 3 --engagements 60 --days 300
    python manage.py evaluate_health --keep-database /tmp/eval.sqlite3   # to look at it afterwards
    python manage.py evaluate_health --seed 2 --keep-facts /tmp/facts2.pickle   # record the rules' inputs
    python manage.py evaluate_health --rules-only /tmp/facts2.pickle   # today's rules on them, in seconds

Builds the portfolio in a throwaway SQLite database (never the configured one), writes its
history through the services day by day, runs the nightly scoring after each replayed day, then
prints, per story family, how many slides were caught and how late, the false alarms per
engagement-year on healthy nights, the flag episodes per slide, and whether each target holds.
Exit status 1 when a target is missed (``--no-fail`` to always exit 0).

``--keep-facts`` also records what the selectors handed the rules each night; ``--rules-only``
replays only the pure rules (``health.scoring``, with today's code and settings) on such a
recording and prints the same report (``health.evaluation.rules_only``): the loop for tuning rules
that read the same facts. Seed and size come from the recording.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from health.conf import health_config
from health.evaluation import rules_only as rules_only_module
from health.evaluation import stories as story_module
from health.evaluation.database import throwaway_database
from health.evaluation.metrics import evaluate, format_report
from health.evaluation.replay import days_to_replay, replay


class Command(BaseCommand):
    help = "Replay a labelled synthetic portfolio night by night and measure the health engine against its targets."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--engagements", type=int, default=40)
        parser.add_argument("--days", type=int, default=240, help="Nights replayed and scored.")
        parser.add_argument("--keep-database", type=Path, default=None,
                            help="Write the throwaway database to this new SQLite file and keep it.")
        parser.add_argument("--keep-facts", type=Path, default=None,
                            help="Also record each night's facts to this new file, for --rules-only.")
        parser.add_argument("--rules-only", type=Path, default=None, metavar="FACTS",
                            help="Replay only the rules on facts recorded with --keep-facts (seed and size from it).")
        parser.add_argument("--no-fail", action="store_true", help="Exit 0 even when a target is missed.")

    def handle(self, *args, seed, engagements, days, keep_database, keep_facts, rules_only, no_fail, verbosity=1,
               **options):
        if rules_only is not None and (keep_database or keep_facts):
            raise CommandError("--rules-only replays recorded facts: no database and no new recording.", returncode=2)
        if keep_facts is not None and keep_facts.exists():
            raise CommandError(f"{keep_facts} already exists; give a new file to keep the facts in.", returncode=2)
        if rules_only is not None:
            try:
                recorded = rules_only_module.load(rules_only)
            except rules_only_module.FactsFileError as error:
                raise CommandError(str(error), returncode=2) from None
            seed, engagements, days = recorded.seed, recorded.engagements, recorded.days
        try:
            portfolio = story_module.portfolio(seed=seed, engagements=engagements, days=days)
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from None
        first_night = story_module.FIRST_NIGHT
        last_night = first_night + dt.timedelta(days=days - 1)
        if rules_only is not None:
            outcome = rules_only_module.replay_rules(recorded, health_config())
            where = f"the rules only, on the facts in {rules_only}"
        else:
            nights: rules_only_module.Nights = {}
            try:
                with throwaway_database(keep_database) as name, \
                        rules_only_module.recording(nights) if keep_facts else contextlib.nullcontext(), \
                        tqdm(total=days_to_replay(portfolio, last_night), unit="day", file=sys.stderr,
                             disable=True if verbosity < 1 else None, desc="Replaying") as bar:
                    outcome = replay(portfolio, first_night=first_night, last_night=last_night,
                                     on_day=lambda _day: bar.update())
            except FileExistsError as error:
                raise CommandError(str(error), returncode=2) from None
            where = "memory" if name == ":memory:" else name
            if keep_facts:
                if len(nights) != days:  # the scoring read its facts some other way than selectors.health_facts
                    raise CommandError(f"Recorded the facts of {len(nights)} nights of {days}; nothing kept.")
                rules_only_module.save(keep_facts, rules_only_module.Recording(
                    seed=seed, engagements=engagements, days=days,
                    key_of={pk: key for key, pk in outcome.engagement_ids.items()},
                    breaks_marked=outcome.breaks_marked, nights=nights))
                where += f"; facts kept in {keep_facts}"
        report = evaluate([s.label for s in portfolio], outcome.flags, outcome.finals, first_night=first_night,
                          last_night=last_night, watch=outcome.watch)
        counts = ", ".join(f"{n:,} {what}" for what, n in outcome.counts.items())
        heading = (f"Health engine v{outcome.algorithm_version} on seed {seed}: {len(portfolio)} engagements, "
                   f"{days} nights ({first_night} to {last_night}); {counts}; "
                   f"{outcome.seconds:.0f} s in {where}.")
        if not outcome.breaks_marked:
            heading += ("\nPlanned breaks happen but are not marked: this engine has no "
                        "engagements.services.planned_break_create.")
        self.stdout.write(format_report(report, heading=heading + "\n"))
        self.stdout.write("\nEvery target met." if report.all_met else
                          f"\n{sum(not t.met for t in report.targets)} of {len(report.targets)} targets missed.")
        if not report.all_met and not no_fail:
            sys.exit(1)
