"""Evidence in words: what a flag or a watch item says, in the reader's language.

Pure functions of a flag's kind and its stored evidence (``Flag.evidence``, a watch item's
``evidence``). They translate with ``gettext`` when called, so a page, an e-mail or an API answer
renders them in the language active at that moment, with dates and numbers in that language's
format. Nothing here reads the database.

- ``flag_summary(kind, evidence)``: one or two sentences that say what changed since when, with the
  key figures;
- ``watch_summary(item)``: the same for an early warning (``HealthSnapshot.watch``);
- ``evidence_details(kind, evidence)``: (label, value) pairs for the numbers folded below;
- ``key_figure(kind, evidence)``: the one big figure and its caption, or None.

Evidence written by the first version of the rules (``"v"`` absent) has other keys; every
function copes with it, and with anything unexpected, by falling back to a plainer sentence
rather than failing: a flag card must always render.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)


# --- Formatting -------------------------------------------------------------------------------

def _date(value) -> str:
    """An ISO date (or date) in the reader's format; empty when missing or malformed."""
    if not value:
        return ""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return ""
    return date_format(day, "DATE_FORMAT")


def _percent(share) -> str:
    """0.62 → "62%" (English), "62 %" (French, narrow no-break space), as the pages write it."""
    if share is None:
        return "—"
    sign = "\u202f%" if (translation.get_language() or "").startswith("fr") else "%"
    return f"{number_format(round(float(share) * 100))}{sign}"


def _number(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    value = round(float(value), digits)
    decimals = f"{value:.{digits}f}".rstrip("0").partition(".")[2]
    return number_format(value, decimal_pos=len(decimals))


def _name(person) -> str:
    if isinstance(person, Mapping):
        return str(person.get("name") or "")
    return str(person or "")


def _safe(fallback: Callable[[str, Mapping], object]):
    """Run the renderer; on a malformed evidence dict log it and use the fallback instead."""
    def decorate(function):
        def wrapper(kind, evidence, *args):
            evidence = evidence if isinstance(evidence, Mapping) else {}
            try:
                return function(kind, evidence, *args)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError):
                logger.warning("Evidence of a %s flag could not be put in words: %r", kind, evidence, exc_info=True)
                return fallback(kind, evidence)
        wrapper.__name__, wrapper.__doc__ = function.__name__, function.__doc__
        return wrapper
    return decorate


def _kind_label(kind: str) -> str:
    from health.models import Flag  # models import nothing from here; a lazy import keeps this module light

    try:
        return str(Flag.Kind(kind).label)
    except ValueError:
        return kind.replace("_", " ").capitalize()


def _fallback_summary(kind: str, evidence: Mapping) -> str:
    window = evidence.get("window") if isinstance(evidence, Mapping) else None
    if isinstance(window, (list, tuple)) and len(window) == 2 and _date(window[0]):
        return _("%(kind)s: the numbers of %(start)s to %(end)s raised it; see the details below.") % {
            "kind": _kind_label(kind), "start": _date(window[0]), "end": _date(window[1])}
    return _("%(kind)s: see the numbers below.") % {"kind": _kind_label(kind)}


# --- Sentences --------------------------------------------------------------------------------

def _drift_sentence(e: Mapping) -> str:
    recent = e.get("recent") or {}
    before = e.get("before") or {}
    since = _date(e.get("since"))
    sessions = int(recent.get("sessions") or 0)
    readouts = int(recent.get("readouts") or 0)
    sponsor = e.get("sponsor_change") or None
    parts = []
    if sponsor and _date(sponsor.get("on")):
        opening = _("Since %(name)s became sponsor on %(date)s") % {
            "name": _name(sponsor.get("new_sponsor")), "date": _date(sponsor.get("on"))}
    elif since:
        opening = _("Since %(date)s") % {"date": since}
    else:
        opening = _("Lately")
    if sessions and readouts * 2 >= sessions:
        parts.append(ngettext("%(readouts)d of the last %(sessions)d session was a KPI read-out",
                              "%(readouts)d of the last %(sessions)d sessions were KPI read-outs", sessions)
                     % {"readouts": readouts, "sessions": sessions})
    elif sessions:
        consultative = int(recent.get("consultative") or 0)
        parts.append(ngettext("%(consultative)d of the last %(sessions)d session was a consultative conversation "
                              "(%(before)s before)",
                              "%(consultative)d of the last %(sessions)d sessions were consultative conversations "
                              "(%(before)s before)", sessions)
                     % {"consultative": consultative, "sessions": sessions,
                        "before": _percent(before.get("consultative_share"))})
    last_advice = e.get("last_advice_on")
    if "last_advice_on" in e and recent.get("advice", 0) == 0 and sessions:
        if last_advice:
            parts.append(_("the client has not asked for our view since %(date)s") % {"date": _date(last_advice)})
        else:
            parts.append(_("the client has not asked for our view in that time"))
    sentence = opening + ", " + _(" and ").join(parts) + "." if parts else opening + "."
    extra = []
    kpi = e.get("kpi") or {}
    if kpi.get("new_after_sponsor"):
        extra.append(ngettext("%(count)d KPI was added after the sponsor changed",
                              "%(count)d KPIs were added after the sponsor changed", len(kpi["new_after_sponsor"]))
                     % {"count": len(kpi["new_after_sponsor"])})
    if kpi.get("reports_without_conversation"):
        count = int(kpi["reports_without_conversation"])
        extra.append(ngettext("KPI values were reported %(count)d time with no consultative conversation in between",
                              "KPI values were reported %(count)d times with no consultative conversation in between",
                              count) % {"count": count})
    shorter = recent.get("mean_minutes") and before.get("mean_minutes")
    if shorter and recent["mean_minutes"] < before["mean_minutes"] * 0.8:
        extra.append(_("sessions last %(recent)s minutes on average instead of %(before)s")
                     % {"recent": _number(recent["mean_minutes"], 0), "before": _number(before["mean_minutes"], 0)})
    if extra:
        text = _("; ").join(extra)
        sentence += " " + text[0].upper() + text[1:] + "."
    return sentence


def _cadence_sentence(e: Mapping) -> str:
    planned = e.get("planned_cadence_days")
    gap = e.get("days_without_session")
    last = _date(e.get("last_session_on"))
    reasons = e.get("reasons") or []
    if "rate" in reasons and "gap" not in reasons and e.get("v") == 2 and e.get("since"):
        return _("Since %(date)s there have been %(held)s sessions where about %(expected)s were usual "
                 "(planned every %(planned)s days).") % {
            "date": _date(e["since"]), "held": e.get("sessions_recent", 0),
            "expected": _number(e.get("expected_recent"), 0), "planned": planned}
    if "rate" in reasons and "gap" not in reasons:
        return _("Sessions fell to %(window)s per 30 days, from %(baseline)s before "
                 "(planned every %(planned)s days).") % {
            "window": _number(e.get("sessions_per_30_days_window")),
            "baseline": _number(e.get("sessions_per_30_days_baseline")), "planned": planned}
    if last:
        return ngettext("No session for %(days)d day (the last on %(date)s), where the plan is one every "
                        "%(planned)s days.",
                        "No session for %(days)d days (the last on %(date)s), where the plan is one every "
                        "%(planned)s days.", int(gap or 0)) % {"days": int(gap or 0), "date": last, "planned": planned}
    return ngettext("No session in %(days)d day, where the plan is one every %(planned)s days.",
                    "No session in %(days)d days, where the plan is one every %(planned)s days.", int(gap or 0)) % {
        "days": int(gap or 0), "planned": planned}


def _feedback_sentence(e: Mapping) -> str:
    window, baseline = e.get("mean_rating_window"), e.get("mean_rating_baseline")
    responses = int(e.get("responses_window") or 0)
    if baseline is not None:
        return ngettext("The client's rating fell to %(window)s out of 5 (%(count)d response in the last 90 days), "
                        "from %(baseline)s before.",
                        "The client's rating fell to %(window)s out of 5 (%(count)d responses in the last 90 days), "
                        "from %(baseline)s before.", responses) % {
            "window": _number(window), "baseline": _number(baseline), "count": responses}
    return ngettext("The client rates the collaboration %(window)s out of 5 (%(count)d response in the last 90 days).",
                    "The client rates the collaboration %(window)s out of 5 (%(count)d responses in the last 90 days).",
                    responses) % {"window": _number(window), "count": responses}


def _one_sided_sentence(e: Mapping) -> str:
    values = {"client": int(e.get("client_events") or 0), "events": int(e.get("events") or 0),
              "share": _percent(e.get("balance"))}
    if e.get("mode") == "client_led":
        return ngettext("The client took the initiative in %(client)d of %(events)d event (%(share)s) over the last "
                        "90 days: they dictate, we execute.",
                        "The client took the initiative in %(client)d of %(events)d events (%(share)s) over the last "
                        "90 days: they dictate, we execute.", values["events"]) % values
    return ngettext("The client took the initiative in only %(client)d of %(events)d event (%(share)s) over the last "
                    "90 days: we talk, they listen.",
                    "The client took the initiative in only %(client)d of %(events)d events (%(share)s) over the last "
                    "90 days: we talk, they listen.", values["events"]) % values


def _sponsor_sentence(e: Mapping) -> str:
    changes = e.get("changes") or []
    change = changes[-1]
    return _("%(new)s became the client's sponsor on %(date)s, replacing %(previous)s.") % {
        "new": _name(change.get("new_sponsor")), "date": _date(change.get("on")),
        "previous": _name(change.get("previous_sponsor"))}


def _slippage_sentence(e: Mapping) -> str:
    due = int(e["due"])
    return ngettext("%(late)d of the %(due)d milestone due in the last 90 days was late.",
                    "%(late)d of the %(due)d milestones due in the last 90 days were late.", due) % {
        "late": int(e["late"]), "due": due}


def _gap_sentence(e: Mapping) -> str:
    return _("The consultants rate the collaboration %(consultant)s out of 5, the client %(client)s.") % {
        "consultant": _number(e["consultant_rating"]), "client": _number(e["client_rating"])}


_SENTENCES = {
    "drift_to_transactional": _drift_sentence,
    "cadence_drop": _cadence_sentence,
    "feedback_decline": _feedback_sentence,
    "one_sided": _one_sided_sentence,
    "sponsor_change": _sponsor_sentence,
    "milestone_slippage": _slippage_sentence,
    "perception_gap": _gap_sentence,
}


@_safe(_fallback_summary)
def flag_summary(kind: str, evidence: Mapping) -> str:
    """One or two sentences: what changed since when, with the key figures."""
    if kind == "drift_to_transactional" and evidence.get("v") != 2:
        # The first rules stored minutes shares only.
        return _("The consultative share of session time fell to %(window)s over the last 90 days, "
                 "from %(baseline)s before (%(sessions)d sessions).") % {
            "window": _percent(evidence["depth_window"]), "baseline": _percent(evidence["depth_baseline"]),
            "sessions": int(evidence["sessions_window"])}
    sentence = _SENTENCES.get(kind)
    return sentence(evidence) if sentence else _fallback_summary(kind, evidence)


def watch_summary(item: Mapping) -> str:
    """An early warning in words: what is on watch, since when, and why."""
    item = item if isinstance(item, Mapping) else {}
    kind = str(item.get("kind") or "")
    evidence = item.get("evidence") if isinstance(item.get("evidence"), Mapping) else {}
    reason = evidence.get("reason")
    since = _date(item.get("since"))
    try:
        if reason == "sponsor_then_readouts":
            sponsor = evidence.get("sponsor_change") or {}
            count = int(evidence.get("readouts") or 0)
            return ngettext("%(name)s became sponsor on %(date)s, and since then %(count)d session was a KPI "
                            "read-out; watching for a drift to transactional.",
                            "%(name)s became sponsor on %(date)s, and since then %(count)d sessions were KPI "
                            "read-outs; watching for a drift to transactional.", count) % {
                "name": _name(sponsor.get("new_sponsor")), "date": _date(sponsor.get("on")), "count": count}
        summary = flag_summary(kind, evidence)
    except (KeyError, TypeError, ValueError, AttributeError):
        summary = _fallback_summary(kind, evidence)
    if since:
        return _("On watch since %(date)s (%(kind)s): %(summary)s") % {
            "date": since, "kind": _kind_label(kind).lower(), "summary": summary}
    return _("On watch (%(kind)s): %(summary)s") % {"kind": _kind_label(kind).lower(), "summary": summary}


# --- The numbers ------------------------------------------------------------------------------

def _signal_label(signal: str) -> str:
    return {
        "readouts": _("KPI read-outs"),
        "consultative": _("Consultative conversations"),
        "focus": _("Sessions other than KPI read-outs labelled consultative"),
        "mislabelled": _("KPI read-outs labelled consultative"),
        "advice": _("Client asked for our view"),
        "initiative": _("Client took the initiative"),
        "duration": _("Session length"),
        "kpi_without_conversation": _("KPI values reported with no consultative conversation"),
        "kpi_targets_missed": _("KPI targets missed"),
        "kpi_set_change": _("KPI set changed after the sponsor changed"),
        "sponsor_change": _("Sponsor changed"),
    }.get(signal, signal.replace("_", " ").capitalize())


def _share_pair(part: Mapping) -> str:
    recent, before = part.get("recent"), part.get("before")
    if part.get("unit") == "minutes":
        return _("%(recent)s min, vs %(before)s min before") % {"recent": _number(recent, 0),
                                                                 "before": _number(before, 0)}
    if part.get("unit") == "count":
        return _number(recent, 0)
    return _("%(recent)s, vs %(before)s before") % {"recent": _percent(recent), "before": _percent(before)}


_LABELS = {
    "depth_window": lambda: _("Consultative share of time, last 90 days"),
    "depth_baseline": lambda: _("Consultative share of time, before"),
    "sessions_window": lambda: _("Sessions, last 90 days"),
    "sessions_baseline": lambda: _("Sessions, before"),
    "mean_rating_window": lambda: _("Mean client rating, last 90 days"),
    "mean_rating_baseline": lambda: _("Mean client rating, before"),
    "responses_window": lambda: _("Responses, last 90 days"),
    "responses_baseline": lambda: _("Responses, before"),
    "days_without_session": lambda: _("Days without a session"),
    "planned_cadence_days": lambda: _("Planned rhythm (days)"),
    "usual_interval_days": lambda: _("Usual interval between sessions (days)"),
    "break_days": lambda: _("Days of planned break not counted"),
    "sessions_per_30_days_window": lambda: _("Sessions per 30 days, last 90 days"),
    "sessions_per_30_days_baseline": lambda: _("Sessions per 30 days, before"),
    "balance": lambda: _("Client initiative"),
    "client_events": lambda: _("Client-side events"),
    "events": lambda: _("All events"),
    "due": lambda: _("Milestones due"),
    "late": lambda: _("Late"),
    "consultant_rating": lambda: _("Consultants' self-assessment"),
    "client_rating": lambda: _("Client rating"),
    "gap": lambda: _("Gap"),
    "probability": lambda: _("Probability the change is real"),
    "score": lambda: _("Weight of evidence"),
    "last_session_on": lambda: _("Last session"),
    "last_advice_on": lambda: _("Last time the client asked for our view"),
}
_SHARES = {"depth_window", "depth_baseline", "balance", "probability", "late_share"}
_DATES = {"last_session_on", "last_advice_on", "since"}


def _format(key: str, value) -> str:
    if key in _SHARES:
        return _percent(value)
    if key in _DATES:
        return _date(value) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (int, float)):
        return _number(value, 2)
    return str(value)


@_safe(lambda kind, evidence: [])
def evidence_details(kind: str, evidence: Mapping) -> list[tuple[str, str]]:
    """The numbers behind a flag, as (label, formatted value) pairs, for the folded details."""
    rows: list[tuple[str, str]] = []
    if evidence.get("since"):
        rows.append((_("Change first seen"), _date(evidence["since"])))
    for part in evidence.get("parts") or []:
        rows.append((_signal_label(str(part.get("signal"))),
                     _("%(values)s (evidence %(weight)s)") % {"values": _share_pair(part),
                                                               "weight": _number(part.get("evidence"), 1)}))
    for key, label in _LABELS.items():
        if key in evidence and evidence[key] is not None and not isinstance(evidence[key], (list, dict)):
            rows.append((label(), _format(key, evidence[key])))
    if evidence.get("score") is not None and evidence.get("raise_at") is not None:
        rows.append((_("Raised at"), _number(evidence["raise_at"], 1)))
    window = evidence.get("window")
    if isinstance(window, (list, tuple)) and len(window) == 2:
        rows.append((_("Window"), _("%(start)s to %(end)s") % {"start": _date(window[0]), "end": _date(window[1])}))
    return rows


@_safe(lambda kind, evidence: None)
def key_figure(kind: str, evidence: Mapping) -> tuple[str, str] | None:
    """The one figure a card shows big, with its caption; None when the kind has none."""
    if kind == "drift_to_transactional":
        if evidence.get("v") == 2:
            recent, before = evidence.get("recent") or {}, evidence.get("before") or {}
            return (_percent(recent.get("consultative_share")),
                    _("consultative, vs %(before)s before") % {"before": _percent(before.get("consultative_share"))})
        return (_percent(evidence["depth_window"]),
                _("consultative, vs %(before)s before") % {"before": _percent(evidence["depth_baseline"])})
    if kind == "cadence_drop":
        days = int(evidence["days_without_session"])
        return (ngettext("%(days)d day", "%(days)d days", days) % {"days": days},
                _("without a session; planned every %(planned)s") % {"planned": evidence.get("planned_cadence_days")})
    if kind == "feedback_decline":
        baseline = evidence.get("mean_rating_baseline")
        caption = (_("client rating, vs %(before)s before") % {"before": _number(baseline)} if baseline is not None
                   else _("client rating out of 5"))
        return (_number(evidence["mean_rating_window"]), caption)
    if kind == "one_sided":
        return (_percent(evidence["balance"]),
                _("client initiative, %(client)s of %(events)s events") % {
                    "client": evidence.get("client_events"), "events": evidence.get("events")})
    if kind == "milestone_slippage":
        return (_("%(late)s of %(due)s") % {"late": evidence["late"], "due": evidence["due"]}, _("milestones late"))
    if kind == "perception_gap":
        return (f"+{_number(evidence['gap'])}", _("consultants %(consultant)s vs client %(client)s") % {
            "consultant": _number(evidence["consultant_rating"]), "client": _number(evidence["client_rating"])})
    return None
