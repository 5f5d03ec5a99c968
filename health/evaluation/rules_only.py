"""The rules alone, on facts recorded from a full replay: the tuner's fast loop (docs/health.md, Evaluation).

A full ``evaluate_health`` run spends nearly all its time writing the history through the
services and reading it back each night; the rules themselves (``scoring.assess`` and
``scoring.plan_flags``) take a few seconds. So a run can record what the selectors handed the
rules each night (``--keep-facts PATH``), and later runs replay only the pure rules on those facts
(``--rules-only PATH``), with the rules and settings as they are then, and print the same report.

- ``recording(into)``: for the block, every ``selectors.health_facts`` call adds its facts to
  ``into`` under its scoring date (the nightly batches of a replay are merged).
- ``save`` / ``load``: the recording on disk, with the portfolio it came from (seed, size, story
  keys) and the names of the facts' fields. The facts hold only what the selectors read when they
  were recorded: a change to what is read needs a new full run (``load`` refuses a file whose
  fields differ from today's ``EngagementFacts``).
- ``replay_rules``: the nightly lifecycle of ``health.services`` in memory (assess, the stored
  flags the lifecycle weighs, plan, prune the watch, apply the plan), with the same outcome a
  replay gives the measures.

The file is a pickle: load only files you wrote yourself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from health import scoring, selectors
from health.evaluation.metrics import Final, FlagRecord
from health.evaluation.replay import Outcome

# 2: the sessions and KPIs of a night's facts are named tuples (scoring.SessionRow, scoring.KPIRow).
FORMAT = 2
Nights = dict[dt.date, dict[int, scoring.EngagementFacts]]


class FactsFileError(ValueError):
    """The file is not a recording this code can replay."""


@dataclasses.dataclass(frozen=True)
class Recording:
    seed: int
    engagements: int
    days: int
    key_of: dict[int, str]   # engagement id -> story key
    breaks_marked: bool
    nights: Nights


def _fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(scoring.EngagementFacts))


@contextlib.contextmanager
def recording(into: Nights) -> Iterator[Nights]:
    """Collect every night's facts, as read by ``selectors.health_facts``, into ``into``."""
    read = selectors.health_facts

    def health_facts(*, engagement_ids, windows):
        facts = read(engagement_ids=engagement_ids, windows=windows)
        into.setdefault(windows.as_of, {}).update(facts)
        return facts

    with mock.patch.object(selectors, "health_facts", health_facts):
        yield into


def save(path: Path, recorded: Recording) -> None:
    with open(path, "xb") as fh:
        pickle.dump({"format": FORMAT, "fields": _fields(), "recording": recorded}, fh,
                    protocol=pickle.HIGHEST_PROTOCOL)


def load(path: Path) -> Recording:
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - a file the tuner wrote with --keep-facts
    except (OSError, pickle.UnpicklingError, AttributeError, EOFError, TypeError) as error:
        raise FactsFileError(f"{path}: not a facts recording ({error}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FactsFileError(f"{path}: not a facts recording of format {FORMAT}.")
    if tuple(data["fields"]) != _fields():
        raise FactsFileError(f"{path}: recorded when the selectors read other facts; record again with "
                             "evaluate_health --keep-facts.")
    return data["recording"]


def replay_rules(recorded: Recording, config: scoring.HealthConfig) -> Outcome:
    """Score every recorded night with today's rules and ``config``; what the measures need, as a replay gives it."""
    started = time.perf_counter()
    key_of = recorded.key_of
    flags: list[dict] = []
    finals: dict[str, Final] = {}
    watch: dict[str, list[dt.date]] = {}
    for day in sorted(recorded.nights):
        facts = recorded.nights[day]
        windows = scoring.windows_for(day, config)
        assessments = [scoring.assess(f, windows, config) for f in facts.values()]
        # What selectors.flags_for_lifecycle returns: live flags, and closed ones whose episode is open.
        stored = [scoring.FlagState(id=f["id"], engagement_id=f["engagement_id"], kind=f["kind"], status=f["status"],
                                    raised_on=f["raised_on"], last_seen_on=f["last_seen_on"],
                                    episode_ended_on=f["episode_ended_on"], snoozed_until=None)
                  for f in flags if f["engagement_id"] in facts
                  and (f["status"] in scoring.LIVE_STATUSES or f["episode_ended_on"] is None)]
        plan = scoring.plan_flags(assessments, stored, day, min_episode_days=config.min_episode_days)
        scoring.prune_watch(assessments, stored, plan)
        by_id = {f["id"]: f for f in flags}
        for engagement_id, condition in plan.raise_new:
            flags.append({"id": len(flags) + 1, "engagement_id": engagement_id, "kind": condition.kind,
                          "status": "open", "raised_on": day, "last_seen_on": day, "episode_ended_on": None})
        for flag_id in plan.still_seen:
            by_id[flag_id]["last_seen_on"] = day
        for flag_id in plan.auto_resolve:
            by_id[flag_id].update(status="resolved", episode_ended_on=day)
        for flag_id in plan.end_episode:
            by_id[flag_id]["episode_ended_on"] = day
        for a in assessments:
            key = key_of[a.engagement_id]
            finals[key] = Final(mode=a.mode, state=a.state, as_of=day)
            if a.watch:
                watch.setdefault(key, []).append(day)
    nights = sorted(recorded.nights)
    records = [FlagRecord(key_of[f["engagement_id"]], f["kind"], f["raised_on"], f["episode_ended_on"], f["status"])
               for f in flags]
    return Outcome(first_night=nights[0] if nights else None, last_night=nights[-1] if nights else None,
                   flags=records, finals=finals, watch=watch, breaks_marked=recorded.breaks_marked,
                   algorithm_version=scoring.ALGORITHM_VERSION,
                   counts={"nights of facts": len(nights),
                           "engagement-nights": sum(map(len, recorded.nights.values()))},
                   seconds=time.perf_counter() - started)
