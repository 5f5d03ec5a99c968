"""Schemathesis against a live server: the schema and the API must agree, for a manager and a client.

The server is pytest-django's ``live_server`` (a real HTTP server on a free port, on the test
database), seeded with one engagement's worth of data. ``st run`` runs in a subprocess with its
default checks and must exit 0. tests/api/schemathesis_hooks.py explains the hooks it loads.

Runtime is kept modest: the examples, fuzzing and stateful phases, a few examples per operation
(``SCHEMATHESIS_MAX_EXAMPLES``, default 3), and for the client only the operations a client may
call (the others are 403 for them, which the permission matrix already pins). For a deeper run,
e.g. before a release:

    SCHEMATHESIS_MAX_EXAMPLES=25 SCHEMATHESIS_PHASES=examples,coverage,fuzzing,stateful \\
        .venv/bin/pytest tests/api/test_schemathesis.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.models import ApiToken
from tests import factories

ST = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
PROJECT = Path(__file__).resolve().parents[2]

# Writes a client user may never make: each answers 403 (pinned in the permission matrix).
STAFF_ONLY_OPERATIONS = [
    "clients_create", "clients_partial_update", "clients_destroy",
    "contacts_create", "contacts_partial_update", "contacts_destroy", "contacts_deactivate_create",
    "contacts_make_sponsor_create",
    "engagements_create", "engagements_partial_update", "engagements_destroy", "engagements_close_create",
    "sessions_create", "sessions_partial_update", "sessions_destroy",
    "milestones_partial_update", "milestones_destroy",
    "kpis_create", "kpis_partial_update", "kpis_destroy",
    "kpi_measurements_create", "kpi_measurements_partial_update", "kpi_measurements_destroy",
    "feedback_responses_create", "pulses_create",
    "flags_acknowledge_create", "flags_assign_create", "flags_dismiss_create", "flags_resolve_create",
    "flags_snooze_create",
    # A calendar is firm staff's own: client users get 403 on every calendar operation.
    "calendar_feeds_list", "calendar_feeds_create", "calendar_feeds_retrieve", "calendar_feeds_destroy",
    "calendar_imports_create", "calendar_meetings_list", "calendar_meetings_retrieve",
    "calendar_meetings_apply_change_create", "calendar_meetings_confirm_create",
    "calendar_meetings_ignore_create", "calendar_meetings_keep_session_create",
    "calendar_meetings_restore_create", "calendar_meetings_confirm_many_create",
]


def run_schemathesis(base_url: str, key: str, seed: dict, exclude_operations=()) -> subprocess.CompletedProcess:
    command = [
        ST, "run", f"{base_url}/api/v1/schema/",
        "--header", f"Authorization: Token {key}",
        "--phases", os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing,stateful"),
        "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "3"),
        "--seed", os.environ.get("SCHEMATHESIS_SEED", "20260101"),
        "--workers", "1",
        "--request-timeout", "30",
        "--generation-database", "none",
        # PostgreSQL cannot store NUL in text, and DRF refuses it: not worth a generated case.
        "--generation-allow-x00", "false",
        "--no-color",
    ]
    for operation_id in exclude_operations:
        command += ["--exclude-operation-id", operation_id]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "RAPPORT_SEED": json.dumps(seed),
           "RAPPORT_BASE_URL": base_url, "RAPPORT_TOKEN": key,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, check=False)  # noqa: S603


def _pools(world, user, size: int = 8) -> dict[str, list[int]]:
    """Objects made to be deleted (or closed, or deactivated), ``size`` of each kind."""
    engagement = world.engagement
    kpis = [factories.KPIFactory(engagement=engagement) for _ in range(size)]
    return {
        "client": [factories.ClientFactory().pk for _ in range(size)],
        "contact": [factories.ContactFactory(client=engagement.client).pk for _ in range(size)],
        "engagement": [factories.EngagementFactory(client=engagement.client, lead=engagement.lead).pk
                       for _ in range(size)],
        "session": [factories.SessionFactory(engagement=engagement).pk for _ in range(size)],
        "milestone": [factories.MilestoneFactory(engagement=engagement).pk for _ in range(size)],
        "kpi": [kpi.pk for kpi in kpis[: size // 2]],
        "measurement": [factories.KPIMeasurementFactory(kpi=kpi).pk for kpi in kpis[size // 2:]],
        "token": [ApiToken.objects.issue(user=user, name=f"disposable {n}")[0].pk for n in range(size)],
    }


@pytest.mark.skipif(ST is None, reason="schemathesis is not installed (pip install schemathesis)")
@pytest.mark.parametrize("persona", ["manager", "client_user"])
def test_schemathesis_finds_no_failures(persona, live_server, world, request):
    user = request.getfixturevalue(persona)
    token, key = ApiToken.objects.issue(user=user, name="schemathesis")
    engagement = world.engagement
    seed = {
        "engagement": engagement.pk, "engagement_start": engagement.start.isoformat(),
        "client": engagement.client_id, "contact": request.getfixturevalue("client_user").contact.pk,
        "staff": request.getfixturevalue("manager").pk, "kpi": world.kpi.pk, "session": world.shared_session.pk,
        "token": token.pk,
        "protected": [engagement.pk, engagement.client_id, world.kpi.pk, world.shared_session.pk,
                      world.milestone.pk, request.getfixturevalue("client_user").contact.pk],
    }
    if persona != "client_user":
        seed["calendar_meeting"] = _waiting_meeting(user, engagement).pk
    # The objects detail paths act on (in the persona's scope), and pools the deleting operations use up.
    seed["ids"] = {"client": engagement.client_id, "contact": seed["contact"], "engagement": engagement.pk,
                   "session": world.shared_session.pk, "milestone": world.milestone.pk, "kpi": world.kpi.pk,
                   "measurement": world.measurement.pk, "feedback": world.feedback.pk, "pulse": world.pulse.pk,
                   "snapshot": world.snapshot.pk, "flag": world.flag.pk, "token": token.pk}
    seed["pools"] = _pools(world, user)
    excluded = STAFF_ONLY_OPERATIONS if persona == "client_user" else ()
    result = run_schemathesis(live_server.url, key, seed, excluded)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-30000:]
    assert "passed" in output  # it ran cases, not just loaded the schema


def _waiting_meeting(user, engagement):
    """A meeting from the persona's own calendar, waiting to be confirmed on an engagement they staff."""
    import datetime as dt  # noqa: PLC0415

    from django.utils import timezone  # noqa: PLC0415

    from calendars.models import CalendarMeeting  # noqa: PLC0415

    engagement.team.add(user)
    meeting = CalendarMeeting.objects.create(owner=user, identity="schemathesis".ljust(64, "0"), uid="schemathesis",
                                             title="Steering", start=timezone.now() - dt.timedelta(days=1),
                                             duration_minutes=60, engagement=engagement)
    meeting.candidate_engagements.set([engagement])
    return meeting
