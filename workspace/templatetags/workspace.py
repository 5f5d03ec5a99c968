"""Template helpers of the consultant workspace: health numbers and flag evidence, readable."""

from __future__ import annotations

import datetime as dt
import hashlib

from django import template
from django.core.cache import caches
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from health.models import Mode

register = template.Library()

EVIDENCE_LABELS = {
    "window": _("Window"),
    "baseline": _("Baseline"),
    "consultative_minutes": _("Consultative minutes"),
    "minutes": _("Session minutes"),
    "balance": _("Client share of initiatives"),
    "client_events": _("Initiatives by the client"),
    "events": _("Initiatives in all"),
    "sessions": _("Sessions"),
    "expected": _("Sessions expected"),
    "planned_cadence_days": _("Planned cadence (days)"),
    "sessions_with_sponsor_or_executive": _("Sessions with the sponsor or an executive"),
    "mean_client_rating": _("Mean client rating (1–5)"),
    "responses": _("Feedback responses"),
    "on_time": _("Milestones on time"),
    "due": _("Milestones due"),
    "depth_window": _("Consultative share, window"),
    "depth_baseline": _("Consultative share, baseline"),
    "sessions_window": _("Sessions, window"),
    "sessions_baseline": _("Sessions, baseline"),
    "consultative_minutes_window": _("Consultative minutes, window"),
    "minutes_window": _("Session minutes, window"),
    "consultative_minutes_baseline": _("Consultative minutes, baseline"),
    "minutes_baseline": _("Session minutes, baseline"),
    "changes": _("Sponsor changes"),
    "days_without_session": _("Days without a session"),
    "last_session_on": _("Last session"),
    "sessions_per_30_days_window": _("Sessions per 30 days, window"),
    "sessions_per_30_days_baseline": _("Sessions per 30 days, baseline"),
    "reasons": _("Why"),
    "mean_rating_window": _("Mean client rating, window"),
    "mean_rating_baseline": _("Mean client rating, baseline"),
    "responses_window": _("Responses, window"),
    "responses_baseline": _("Responses, baseline"),
    "mode": _("Mode"),
    "client_initiated_sessions": _("Sessions asked for by the client"),
    "milestones_proposed_by_client": _("Milestones proposed by the client"),
    "milestones_proposed": _("Milestones proposed"),
    "client_comments": _("Comments by the client"),
    "comments": _("Comments"),
    "client_approvals": _("Client approvals"),
    "late": _("Milestones late"),
    "late_share": _("Share late"),
    "consultant_rating": _("Our self-assessment (1–5)"),
    "client_rating": _("Client rating (1–5)"),
    "gap": _("Gap"),
    "consultant_responses": _("Self-assessments"),
    "client_responses": _("Client responses"),
}
# Values between 0 and 1 that read best as a percentage.
FRACTIONS = {"balance", "depth_window", "depth_baseline", "late_share"}
REASONS = {"gap": _("too long without a session"), "rate": _("fewer sessions than before"),
           "decline": _("ratings fell"), "below_floor": _("ratings are low")}


def _date(value: str) -> str:
    try:
        return date_format(dt.date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def _number(value) -> str:
    if isinstance(value, float):
        return number_format(round(value, 2), decimal_pos=None if value == int(value) else 2)
    return number_format(value)


def _evidence_value(key: str, value) -> str:
    if value is None:
        return "—"
    if key in ("window", "baseline") and isinstance(value, list | tuple) and len(value) == 2:
        return f"{_date(value[0])} – {_date(value[1])}"
    if key == "last_session_on":
        return _date(value)
    if key == "changes" and isinstance(value, list):
        return "; ".join(f"{_date(c.get('on'))}: {c.get('previous_sponsor', {}).get('name', '?')} → "
                         f"{c.get('new_sponsor', {}).get('name', '?')}" for c in value)
    if key == "reasons" and isinstance(value, list):
        return ", ".join(str(REASONS.get(reason, reason)) for reason in value)
    if key == "mode":
        return str(dict(Mode.choices).get(value, value))
    if key in FRACTIONS and isinstance(value, int | float):
        return percent(value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


@register.filter
def evidence_items(evidence) -> list[tuple[str, str]]:
    """A flag's or a component's evidence dict as (label, readable value) pairs, in a stable order."""
    if not isinstance(evidence, dict):
        return []
    known = [key for key in EVIDENCE_LABELS if key in evidence]
    unknown = sorted(key for key in evidence if key not in EVIDENCE_LABELS)
    return [(str(EVIDENCE_LABELS.get(key, key.replace("_", " ").capitalize())), _evidence_value(key, evidence[key]))
            for key in known + unknown]


@register.simple_tag
def first_snooze_day() -> str:
    """Tomorrow in the firm's time zone, ISO: the earliest date a flag can be snoozed until (the date input's min)."""
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


@register.filter
def percent(value) -> str:
    """0.62 → "62%" in English, "62 %" in French (a narrow no-break space before the sign, as French
    writes it and as the charts' Intl.NumberFormat does); empty stays a dash."""
    if value is None or value == "":
        return "—"
    sign = "\u202f%" if (translation.get_language() or "").startswith("fr") else "%"
    return f"{number_format(round(float(value) * 100))}{sign}"


@register.filter
def score_level(score) -> str:
    """good / fair / poor for a 0–100 score, for the badge colour (the number is always shown too)."""
    if score is None:
        return "none"
    if score >= 70:
        return "good"
    if score >= 50:
        return "fair"
    return "poor"


@register.simple_tag(takes_context=True)
def assignable_owners(context):
    """People a flag can be given to, read once per request however many flag cards the page shows."""
    from workspace.forms import assignable_owners as owners_queryset

    if context.get("assignable_owners") is not None:  # the view read them already (the flag queue)
        return context["assignable_owners"]
    request = context.get("request")
    cached = getattr(request, "_assignable_owners", None) if request is not None else None
    if cached is None:
        cached = list(owners_queryset())
        if request is not None:
            request._assignable_owners = cached
    return cached


@register.simple_tag(takes_context=True)
def owner_options(context, selected_id=None):
    """The <option>s of a flag card's owner menu, built once per request and selected owner: a queue of
    twenty cards in a firm of 150 people would otherwise render 3,000 options through the template engine."""
    request = context.get("request")
    cache = getattr(request, "_owner_options", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._owner_options = cache
    if selected_id not in cache:
        cache[selected_id] = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((person.pk, mark_safe(" selected") if person.pk == selected_id else "", str(person))
             for person in assignable_owners(context)))
    return cache[selected_id]


# --- Evidence in words (health.evidence writes the sentences; these only hand them to templates) ----------

@register.filter
def flag_summary(flag) -> str:
    """What changed since when, in one or two sentences in the active language."""
    from health import evidence

    return evidence.flag_summary(flag.kind, flag.evidence or {})


@register.simple_tag
def flag_key_figure(flag):
    """``(figure, caption)`` of the one number that says most about the flag, or None."""
    from health import evidence

    return evidence.key_figure(flag.kind, flag.evidence or {})


@register.simple_tag
def flag_details(flag) -> list[tuple[str, str]]:
    """The detailed numbers behind the flag as (label, value) pairs, for the folded part of its card."""
    from health import evidence

    return evidence.evidence_details(flag.kind, flag.evidence or {})


@register.filter
def watch_summary(item) -> str:
    """One watch item (``{"kind", "since", "evidence"}``) in a sentence in the active language."""
    from health import evidence

    return evidence.watch_summary(item)


# --- Cards rendered once per content --------------------------------------------------------------

_CSRF_MARK = "csrfmark0d6f0e5b9c2a4e71"
FRAGMENT_SECONDS = 60 * 60


@register.simple_tag(takes_context=True)
def content_cached(context, template_name: str, content, *more, swap=None, **values):
    """Include ``template_name`` as ``{% include %}`` would, from the fragment cache when the same
    content was rendered before.

    The key is a hash of ``content`` (every value the card shows, built in workspace.selectors
    next to the query that reads them: ``card_content``), ``more`` (context values the template
    reads), the language and the time zone: a change to anything the card shows gives another key,
    so nothing needs invalidating and a stale card cannot be served. ``values`` are set in the
    template's context as ``{% include … with %}`` would; they are not part of the key, which must
    describe them through ``content``. ``swap`` is a ``(mark, value)`` pair: the template was given
    ``mark`` in place of a value that changes too often to be part of the key (the log form's
    "now"), replaced by ``value`` on the way out. The cache is each process's
    own memory (``CACHES["fragments"]``), as good as shared for content-addressed entries. The
    CSRF token is never stored: the card is rendered with a mark in its place, replaced by this
    request's token on the way out.
    """
    key = "card:" + hashlib.sha256(repr((template_name, content, more, translation.get_language(),
                                         timezone.get_current_timezone_name())).encode()).hexdigest()
    fragments = caches["fragments"]
    html = fragments.get(key)
    if html is None:
        card = context.template.engine.get_template(template_name)
        with context.push(**values, csrf_token=_CSRF_MARK):
            html = card.render(context)
        fragments.set(key, str(html), FRAGMENT_SECONDS)
    if swap:
        html = html.replace(*swap)
    if _CSRF_MARK in html:
        token = context.get("csrf_token")
        html = html.replace(_CSRF_MARK, conditional_escape(str(token)) if token else "")
    return mark_safe(html)  # noqa: S308  (rendered by the template engine, which escaped it)
