"""Every role against every endpoint and method of /api/v1/, each cell with its expected status.

The target objects all hang off one engagement (Acme) staffed by ``consultant``. "Off" is a
consultant not on it; "client" is a contact of Acme, "other client" a contact of Globex. Objects
outside a caller's scope answer 404 in URLs and "does not exist" (400) in bodies, exactly as if
they did not exist; roles that may never run an action get 403.

``test_every_api_url_has_a_row`` walks the URL resolver, so a new endpoint cannot ship without
its row here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.api.conftest import client_for

ROLES = ("anonymous", "consultant", "off_consultant", "manager", "client", "other_client")


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    # Expected status for each of ROLES, in order.
    expected: tuple[int, int, int, int, int, int]
    kwargs: Any = None  # world -> URL kwargs
    body: Any = None  # world -> request body
    extra: dict = field(default_factory=dict)


def pk(attribute):
    return lambda w: {"pk": getattr(w, attribute).pk}


def on_engagement(**values):
    return lambda w: {"engagement": w.engagement.pk, **values}


#            anon consultant off  manager client other_client
MATRIX = [
    Row("token-obtain", "post", (201, 201, 201, 201, 201, 201),
        body=lambda w: {"email": "consultant@firm.example", "password": "correct-horse-battery"}),
    Row("schema", "get", (200, 200, 200, 200, 200, 200)),
    Row("docs", "get", (200, 200, 200, 200, 200, 200)),
    Row("token-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("token-detail", "get", (401, 200, 404, 404, 404, 404), kwargs=pk("consultant_token")),
    Row("token-detail", "delete", (401, 204, 404, 404, 404, 404), kwargs=pk("consultant_token")),

    Row("client-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("client-list", "post", (401, 403, 403, 201, 403, 403), body=lambda w: {"name": "Initech"}),
    Row("client-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=lambda w: {"pk": w.engagement.client_id}),
    Row("client-detail", "patch", (401, 403, 403, 200, 403, 403), kwargs=lambda w: {"pk": w.engagement.client_id},
        body=lambda w: {"industry": "Banking"}),
    # Acme has an engagement (PROTECT), so even a manager may not delete it: 409.
    Row("client-detail", "delete", (401, 403, 403, 409, 403, 403), kwargs=lambda w: {"pk": w.engagement.client_id}),

    Row("contact-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("contact-list", "post", (401, 201, 400, 201, 403, 403),
        body=lambda w: {"client": w.engagement.client_id, "name": "Nina New", "email": "nina@acme.example"}),
    Row("contact-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("sponsor")),
    Row("contact-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("sponsor"),
        body=lambda w: {"title": "CFO"}),
    Row("contact-detail", "delete", (401, 403, 403, 204, 403, 403), kwargs=pk("sponsor")),
    Row("contact-make-sponsor", "post", (401, 200, 404, 200, 403, 403),
        kwargs=lambda w: {"pk": w.engagement.client.contacts.exclude(pk=w.sponsor.pk).first().pk}, body=lambda w: {}),
    Row("contact-deactivate", "post", (401, 200, 404, 200, 403, 403), kwargs=pk("sponsor")),

    Row("engagement-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("engagement-list", "post", (401, 201, 400, 201, 403, 403),
        body=lambda w: {"client": w.engagement.client_id, "title": "Phase 2", "start": "2025-01-06"}),
    Row("engagement-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("engagement")),
    Row("engagement-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("engagement"),
        body=lambda w: {"title": "Renamed"}),
    Row("engagement-detail", "delete", (401, 403, 403, 204, 403, 403), kwargs=pk("engagement")),
    Row("engagement-close", "post", (401, 200, 404, 200, 403, 403), kwargs=pk("engagement"),
        body=lambda w: {"closure_reason": "completed", "retrospective": "Worked well together."}),

    Row("session-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("session-list", "post", (401, 201, 400, 201, 403, 403),
        body=on_engagement(start="2025-03-03T10:00:00Z", duration_minutes=60, focus="strategy")),
    Row("session-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("shared_session")),
    Row("session-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("shared_session"),
        body=lambda w: {"notes": "Updated", "version": w.shared_session.version}),
    Row("session-detail", "delete", (401, 204, 404, 204, 403, 403), kwargs=pk("shared_session")),

    # Planned breaks are firm-only, like health: clients list nothing and open nothing.
    Row("planned-break-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("planned-break-list", "post", (401, 201, 400, 201, 403, 403),
        body=on_engagement(starts_on="2026-09-07", ends_on="2026-09-18", reason="holiday")),
    Row("planned-break-detail", "get", (401, 200, 404, 200, 404, 404), kwargs=pk("planned_break")),
    Row("planned-break-detail", "delete", (401, 204, 404, 204, 403, 403), kwargs=pk("planned_break")),

    Row("milestone-list", "get", (401, 200, 200, 200, 200, 200)),
    # A client's POST is a proposal; Globex's contact cannot name Acme's engagement.
    Row("milestone-list", "post", (401, 201, 400, 201, 201, 400), body=on_engagement(title="Pilot in one region")),
    Row("milestone-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("milestone")),
    Row("milestone-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("milestone"),
        body=lambda w: {"status": "in_progress", "version": w.milestone.version}),
    Row("milestone-detail", "delete", (401, 204, 404, 204, 403, 403), kwargs=pk("milestone")),
    Row("milestone-approve", "post", (401, 403, 403, 403, 200, 404), kwargs=pk("milestone")),
    Row("milestone-comment-list", "get", (401, 200, 404, 200, 200, 404),
        kwargs=lambda w: {"milestone_pk": w.milestone.pk}),
    Row("milestone-comment-list", "post", (401, 201, 404, 201, 201, 404),
        kwargs=lambda w: {"milestone_pk": w.milestone.pk}, body=lambda w: {"text": "Agreed."}),
    Row("milestone-comment-detail", "get", (401, 200, 404, 200, 200, 404),
        kwargs=lambda w: {"milestone_pk": w.milestone.pk, "pk": w.comment.pk}),

    Row("kpi-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("kpi-list", "post", (401, 201, 400, 201, 403, 403), body=on_engagement(name="Churn", unit="%")),
    Row("kpi-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("kpi")),
    Row("kpi-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("kpi"), body=lambda w: {"target": "12.50"}),
    Row("kpi-detail", "delete", (401, 403, 403, 204, 403, 403), kwargs=pk("kpi")),

    Row("kpi-measurement-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("kpi-measurement-list", "post", (401, 201, 400, 201, 403, 403),
        body=lambda w: {"kpi": w.kpi.pk, "date": "2025-02-01", "value": "3.50"}),
    Row("kpi-measurement-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("measurement")),
    Row("kpi-measurement-detail", "patch", (401, 200, 404, 200, 403, 403), kwargs=pk("measurement"),
        body=lambda w: {"value": "4.00"}),
    Row("kpi-measurement-detail", "delete", (401, 204, 404, 204, 403, 403), kwargs=pk("measurement")),

    Row("feedback-response-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("feedback-response-list", "post", (401, 201, 400, 201, 403, 403),
        body=on_engagement(side="consultant", rating=4)),
    Row("feedback-response-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("feedback")),

    Row("pulse-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("pulse-list", "post", (401, 201, 400, 201, 403, 403),
        body=lambda w: {"engagement": w.engagement.pk, "contact": w.pulse.contact_id}),
    Row("pulse-detail", "get", (401, 200, 404, 200, 200, 404), kwargs=pk("pulse")),
    Row("pulse-answer", "post", (401, 403, 403, 403, 201, 404), kwargs=pk("pulse"), body=lambda w: {"rating": 5}),

    # Health is never shown to client users: their lists are empty and every object is a 404.
    Row("health-snapshot-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("health-snapshot-detail", "get", (401, 200, 404, 200, 404, 404), kwargs=pk("snapshot")),
    Row("flag-list", "get", (401, 200, 200, 200, 200, 200)),
    Row("flag-detail", "get", (401, 200, 404, 200, 404, 404), kwargs=pk("flag")),
    # Acting on flags is a manager's call (access.can_manage_flags).
    Row("flag-acknowledge", "post", (401, 403, 403, 200, 403, 403), kwargs=pk("flag")),
    Row("flag-snooze", "post", (401, 403, 403, 200, 403, 403), kwargs=pk("flag"),
        body=lambda w: {"snoozed_until": "2999-01-01", "snooze_reason": "Sponsor on leave"}),
    Row("flag-resolve", "post", (401, 403, 403, 200, 403, 403), kwargs=pk("flag"),
        body=lambda w: {"action_plan": "repair", "resolution_note": "Monthly steering with the new CMO"}),
    Row("flag-dismiss", "post", (401, 403, 403, 200, 403, 403), kwargs=pk("flag"), body=lambda w: {}),
    Row("flag-assign", "post", (401, 403, 403, 200, 403, 403), kwargs=pk("flag"),
        body=lambda w: {"owner": w.engagement.lead_id}),

    # A calendar is personal: each consultant or manager sees and confirms only their own meetings
    # and subscriptions (a manager included); client users have none.
    Row("calendar-meeting-list", "get", (401, 200, 200, 200, 403, 403)),
    Row("calendar-meeting-detail", "get", (401, 200, 404, 404, 403, 403), kwargs=pk("meeting")),
    Row("calendar-meeting-confirm", "post", (401, 200, 404, 404, 403, 403), kwargs=pk("meeting"),
        body=lambda w: {"focus": "advisory"}),
    # Someone else's meeting in a body is "does not exist" (400), as if it were not there.
    Row("calendar-meeting-confirm-many", "post", (401, 200, 400, 400, 403, 403),
        body=lambda w: {"meetings": [{"id": w.meeting.pk, "focus": "advisory"}]}),
    Row("calendar-meeting-ignore", "post", (401, 200, 404, 404, 403, 403), kwargs=pk("meeting")),
    Row("calendar-meeting-restore", "post", (401, 200, 404, 404, 403, 403), kwargs=pk("ignored_meeting")),
    Row("calendar-meeting-apply-change", "post", (401, 200, 404, 404, 403, 403), kwargs=pk("changed_meeting")),
    Row("calendar-meeting-keep-session", "post", (401, 200, 404, 404, 403, 403), kwargs=pk("changed_meeting")),
    # Anyone of the firm may import into their own calendar.
    Row("calendar-import-list", "post", (401, 200, 200, 200, 403, 403),
        body=lambda w: {"content": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nEND:VCALENDAR\r\n"}),
    Row("calendar-feed-list", "get", (401, 200, 200, 200, 403, 403)),
    Row("calendar-feed-list", "post", (401, 201, 201, 201, 403, 403),
        body=lambda w: {"url": "https://calendar.example.com/other-secret/calendar.ics", "name": "Google"}),
    Row("calendar-feed-detail", "get", (401, 200, 404, 404, 403, 403), kwargs=pk("feed")),
    Row("calendar-feed-detail", "delete", (401, 204, 404, 404, 403, 403), kwargs=pk("feed")),
]


@pytest.fixture
def personas(consultant, other_consultant, manager, client_user, other_client_user):
    return {"anonymous": None, "consultant": consultant, "off_consultant": other_consultant, "manager": manager,
            "client": client_user, "other_client": other_client_user}


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method.upper()} {row.name}")
def test_permission_matrix(row, world, personas):
    """One row: every role runs the request against the same data, each inside a rolled-back savepoint,
    so a DELETE by one role does not change what the next role meets."""
    url = reverse(f"api:{row.name}", kwargs=row.kwargs(world) if row.kwargs else None)
    body = row.body(world) if row.body else None
    outcome = {}
    for role in ROLES:
        with transaction.atomic():
            response = getattr(client_for(personas[role]), row.method)(url, body, format="json")
            transaction.set_rollback(True)
        outcome[role] = response.status_code
        if response.status_code == 404:
            # Someone else's object and a missing one are indistinguishable.
            assert response.json() == {"status": 404, "code": "not_found", "detail": "Not found.", "errors": {}}
    assert outcome == dict(zip(ROLES, row.expected, strict=True))


def _api_routes():
    """(url name, method) for every route under api/v1/, found by walking the resolver."""
    root = next(p for p in get_resolver().url_patterns
                if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    routes = set()
    for pattern in root.url_patterns:
        assert isinstance(pattern, URLPattern), f"unexpected nested include under api/v1/: {pattern}"
        callback = pattern.callback
        actions = getattr(callback, "actions", None)
        if actions is not None:
            methods = set(actions)
        else:
            view_class = callback.view_class
            methods = {m for m in view_class.http_method_names if hasattr(view_class, m)}
        # HEAD and OPTIONS mirror GET and describe the route: they add no permission of their own.
        routes |= {(pattern.name, method) for method in methods - {"head", "options"}}
    return routes


def test_every_api_url_has_a_row():
    routes = _api_routes()
    rows = {(row.name, row.method) for row in MATRIX}
    assert routes - rows == set(), "endpoints without a row in the permission matrix"
    assert rows - routes == set(), "matrix rows for endpoints that do not exist"
