"""Schemathesis hooks: teach the generator the rules of Rapport that an OpenAPI schema cannot say.

A schema says "engagement is an integer"; only the database knows which integers name an
engagement the caller may use, that a client's name is unique, or that an engagement cannot end
before it starts. Without help, nearly every *valid-looking* request the generator makes is
rightly refused with 400, and the ``positive_data_acceptance`` check (one of the defaults) calls
that a failure. So, for the cases Schemathesis means to be valid (positive mode) and only there,
these hooks swap ids for ones of the seeded data (passed in ``RAPPORT_SEED``, JSON) and bend
values that break a domain rule into ones that keep it, always keeping each value valid against
the schema. Negative cases are left untouched, so every check still sees the invalid data it made.

Positive cases also go to objects that exist and that the caller may see: a generated id in a
path would almost never name one, and every GET, PATCH or action on it would be a 404 that no
check can fault. So a detail path gets the seeded object of its kind (``ids`` in the seed), a
PATCH of a versioned object the version it has now (read over HTTP with the run's token), and a
DELETE, a close or a deactivation one object of a pool seeded to be used up (``pools``); when a
pool runs dry the id points nowhere (404). That is what lets the run fail: a valid PATCH that the
API refuses with 400, or a response that does not match its schema, is reported.

They also keep the run from sawing off the branch it sits on: a generated id that happens to
name a seeded object is moved off it for deletes and deactivations, and the run's own token is
never revoked.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os

import requests
import schemathesis

SEED = json.loads(os.environ.get("RAPPORT_SEED", "{}"))
BASE_URL = os.environ.get("RAPPORT_BASE_URL", "")
TOKEN = os.environ.get("RAPPORT_TOKEN", "")
_counter = itertools.count(1)

# Body keys that reference another object, and which seeded object to use for each.
REFERENCES = {
    "engagement": "engagement", "client": "client", "kpi": "kpi", "session": "session",
    "contact": "contact", "respondent_contact": "contact", "client_owner": "contact",
    "lead": "staff", "account_lead": "staff", "consultant_owner": "staff", "respondent_user": "staff",
    "owner": "staff",
}
LIST_REFERENCES = {"team": "staff", "consultants": "staff", "client_attendees": "contact", "kpis_discussed": "kpi"}
# Where a string must be unique, and the field's maxLength.
UNIQUE_STRINGS = {("/api/v1/clients/", "name"): 200, ("/api/v1/clients/{id}/", "name"): 200,
                  ("/api/v1/kpis/", "name"): 120, ("/api/v1/kpis/{id}/", "name"): 120}
UNIQUE_EMAILS = {"/api/v1/contacts/", "/api/v1/contacts/{id}/"}
# Objects the other cases rely on: never delete or deactivate them mid-run.
PROTECTED_OPERATIONS = {("DELETE", path) for path in (
    "/api/v1/clients/{id}/", "/api/v1/contacts/{id}/", "/api/v1/engagements/{id}/", "/api/v1/sessions/{id}/",
    "/api/v1/kpis/{id}/", "/api/v1/milestones/{id}/")} | {("POST", "/api/v1/contacts/{id}/deactivate/")}


# Detail paths, and which seeded object (``ids``) a positive case acts on.
DETAIL_OBJECTS = {
    "/api/v1/clients/": "client", "/api/v1/contacts/": "contact", "/api/v1/engagements/": "engagement",
    "/api/v1/sessions/": "session", "/api/v1/milestones/": "milestone", "/api/v1/kpis/": "kpi",
    "/api/v1/kpi-measurements/": "measurement", "/api/v1/feedback-responses/": "feedback",
    "/api/v1/pulses/": "pulse", "/api/v1/health-snapshots/": "snapshot", "/api/v1/flags/": "flag",
    "/api/v1/auth/tokens/": "token",
}
# Operations that use their object up: each positive case takes a fresh one from a pool.
POOLED = {("DELETE", f"{prefix}{{id}}/"): key for prefix, key in DETAIL_OBJECTS.items()
          if key not in ("feedback", "pulse", "snapshot", "flag")}
POOLED |= {("POST", "/api/v1/engagements/{id}/close/"): "engagement",
           ("POST", "/api/v1/contacts/{id}/deactivate/"): "contact"}
VERSIONED = {"/api/v1/sessions/{id}/", "/api/v1/milestones/{id}/"}


def _real_objects(case) -> None:
    """Point a positive case's path at an object that exists and is in the caller's scope."""
    params = case.path_parameters
    if not params:
        return
    path, method = case.operation.path, case.method.upper()
    if "milestone_pk" in params:
        params["milestone_pk"] = SEED["ids"]["milestone"]
    if "id" not in params:
        return
    prefix = next((p for p in DETAIL_OBJECTS if path.startswith(p) and path[len(p):].startswith("{id}")), None)
    if prefix is None:
        return  # a kind the seed has none of (calendar feeds and meetings): left as generated
    if (method, path) in POOLED:
        pool = SEED["pools"].get(POOLED[(method, path)], [])
        params["id"] = pool.pop() if pool else 10**9
    else:
        params["id"] = SEED["ids"][DETAIL_OBJECTS[prefix]]
    if method == "PATCH" and path in VERSIONED and isinstance(case.body, dict):
        current = requests.get(f"{BASE_URL}{path.replace('{id}', str(params['id']))}",
                               headers={"Authorization": f"Token {TOKEN}"}, timeout=30)
        if current.ok:
            case.body["version"] = current.json()["version"]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _date(value):
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _keep_seed(case) -> None:
    params = case.path_parameters or {}
    key = (case.method.upper(), case.operation.path)
    if key in PROTECTED_OPERATIONS and str(params.get("id")) in {str(pk) for pk in SEED.get("protected", [])}:
        params["id"] = 10**9
    if key == ("DELETE", "/api/v1/auth/tokens/{id}/") and str(params.get("id")) == str(SEED.get("token")):
        params["id"] = 10**9


def _follow_rules(path: str, method: str, body: dict) -> None:
    for key, seeded in REFERENCES.items():
        if _is_int(body.get(key)):
            body[key] = SEED[seeded]
    for key, seeded in LIST_REFERENCES.items():
        if isinstance(body.get(key), list) and all(_is_int(item) for item in body[key]):
            body[key] = [SEED[seeded]] if body[key] else []
    if isinstance(body.get("team"), list):
        body["team"] = [SEED["staff"]]  # the caller stays on the team their meetings are confirmed on

    for (unique_path, key), max_length in UNIQUE_STRINGS.items():
        if path == unique_path and isinstance(body.get(key), str) and body[key].strip():
            suffix = f" #{next(_counter)}"
            body[key] = body[key][: max_length - len(suffix)] + suffix
    if path in UNIQUE_EMAILS and isinstance(body.get("email"), str):
        body["email"] = f"generated{next(_counter)}@client.example"

    engagement_start = dt.date.fromisoformat(SEED["engagement_start"])
    if path.startswith("/api/v1/engagements/"):
        if body.get("status") == "closed":  # closing is its own action, with a retrospective
            body["status"] = "active"
        start, end = _date(body.get("start")), _date(body.get("end"))
        if end and start and end < start:
            body["start"], body["end"] = body["end"], body["start"]
        elif end and not start and method == "PATCH":
            body["end"] = None
        if path.endswith("/close/") and end and end < engagement_start:
            body["end"] = SEED["engagement_start"]
    if path.startswith("/api/v1/milestones") and (due := _date(body.get("due_date"))) and due < engagement_start:
        body["due_date"] = SEED["engagement_start"]
    if path == "/api/v1/feedback-responses/" and body.get("side", "client") == "client":
        body["respondent_contact"] = SEED["contact"]
    # The calendar import reads a real calendar (any other text is refused, rightly); feed addresses are
    # unique per person.
    if path == "/api/v1/calendar/imports/":
        body.clear()
        body["content"] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//schemathesis//EN\r\nEND:VCALENDAR\r\n"
    # The persona's one seeded meeting to confirm, named once (twice would confirm it twice: a 400).
    if path == "/api/v1/calendar/meetings/confirm-many/" and isinstance(body.get("meetings"), list):
        items = [item for item in body["meetings"] if isinstance(item, dict)][:1]
        if items and SEED.get("calendar_meeting"):
            items[0]["id"] = SEED["calendar_meeting"]
            if _is_int(items[0].get("engagement")):
                items[0]["engagement"] = SEED["engagement"]
            body["meetings"] = items
    if path == "/api/v1/calendar/feeds/" and isinstance(body.get("url"), str):
        body["url"] = f"https://calendar.example.com/generated-{next(_counter)}.ics"
    if path == "/api/v1/planned-breaks/" and "starts_on" in body and "ends_on" in body:
        # A break of at most 120 days, in order, and not overlapping any other the run makes: each
        # case gets its own stretch of a far-off century.
        start, end = _date(body["starts_on"]), _date(body["ends_on"])
        length = min(abs((end - start).days), 119) if start and end else 0
        first = dt.date(2200, 1, 1) + dt.timedelta(days=130 * next(_counter))
        body["starts_on"], body["ends_on"] = first.isoformat(), (first + dt.timedelta(days=length)).isoformat()
    until = _date(body.get("snoozed_until"))
    if path == "/api/v1/flags/{id}/snooze/" and until and until <= dt.date.today():
        body["snoozed_until"] = "2999-12-31"


@schemathesis.hook
def map_case(context, case):
    _keep_seed(case)
    meta = case.meta
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and isinstance(case.body, dict):
        _follow_rules(case.operation.path, case.method.upper(), case.body)
    if positive:
        _real_objects(case)
    return case
