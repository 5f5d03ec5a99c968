"""Pages of the manager dashboard. Anyone but a manager gets 404, never 403 (docs/architecture.md)."""

from __future__ import annotations

import csv
import functools

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

import access
from config.spreadsheets import csv_row, number_cell
from dashboard import caching, selectors
from dashboard.forms import FlagFilterForm, PortfolioFilterForm
from health.conf import health_config
from health.models import Flag, Mode, State
from health.selectors import flag_card_content

FLAG_CARD = "workspace/_flag_card.html"
TRENDS_CACHE_SECONDS = 15 * 60


def manager_required(view):
    """Signed-in managers only; anyone else signed in gets a 404, as if the page did not exist."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not access.can_manage_flags(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


_PLACEHOLDER = 2147483647


@functools.cache
def _detail_pattern() -> str:
    return reverse("engagements:detail", args=[_PLACEHOLDER])


def detail_url(engagement_id: int) -> str:
    """The engagement page (reversed once per process, not once per row)."""
    return _detail_pattern().replace(str(_PLACEHOLDER), str(engagement_id))


def _portfolio_form(request) -> PortfolioFilterForm:
    form = PortfolioFilterForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()
    return form


def _change(value: float | None) -> tuple[str, str, str] | None:
    """(css class, arrow, rounded signed value) of a score change, for the table."""
    if value is None:
        return None
    rounded = round(value)
    if rounded < 0:
        return "change change-down", "▼", number_format(rounded)
    if rounded > 0:
        return "change change-up", "▲", "+" + number_format(rounded)
    return "change", "", "0"


def portfolio_row_content(row) -> tuple:
    """Every value ``dashboard/_portfolio_row.html`` shows of a row (its fragment-cache key)."""
    return (row.pk, row.client_name, row.title, row.detail_url, row.lead_name, row.score_shown, tuple(row.changes),
            row.mode, row.state, row.status, row.days_since_session, row.watch_count, row.live_flags)


def _querystring(request, **changes) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


@require_GET
@manager_required
def home(request):
    """Portfolio table, relationship map and the way to the trends and the flag queue.

    The portfolio is served from the page cache until something it shows changes (dashboard/caching.py).
    """
    portfolio = caching.cached_page(
        request, "home",
        lambda: render_to_string("dashboard/_portfolio.html", _portfolio_context(request), request=request))
    return render(request, "dashboard/home.html", {"portfolio": portfolio})


def _portfolio_context(request) -> dict:
    """Everything the portfolio part of the page shows: five reads (docs/dashboard.md)."""
    form = _portfolio_form(request)
    sort = selectors.normalise_sort(request.GET.get("sort"))
    filters = form.filters()
    portfolio = selectors.portfolio(user=request.user, filters=filters, sort=sort)
    # One pass over the portfolio gives the counts, the map and the first pages in the default order.
    relationship_map, summary, first_rows = selectors.relationship_map(portfolio, sort=sort,
                                                                       today=timezone.localdate())
    paginator = Paginator(portfolio, selectors.PORTFOLIO_PAGE_SIZE)
    # The window counts already counted the rows: spare the paginator a COUNT over the portfolio.
    paginator.__dict__["count"] = summary.engagements
    page = paginator.get_page(request.GET.get("page"))
    if sort == selectors.DEFAULT_SORT and page.end_index() <= len(first_rows):
        page.object_list = first_rows[page.start_index() - 1:page.end_index()]
    else:  # another sort, or beyond the map's rows: the page's rows, sorted over the whole portfolio
        page.object_list = selectors.sorted_rows(portfolio, sort=sort, start=page.start_index() - 1,
                                                 stop=page.end_index(), present=summary.sort_present,
                                                 total=summary.engagements)
    today = timezone.localdate()
    for row in page.object_list:
        row.detail_url = detail_url(row.pk)
        row.score_shown = selectors.shown_score(row.score)
        row.changes = [_change(row.change_30), _change(row.change_90)]
        # The snapshot counted days up to its own date; add the days since it was taken.
        if row.days_since_session is not None and row.latest_on:
            row.days_since_session += (today - row.latest_on).days
        row.row_content = portfolio_row_content(row)
    config = health_config()
    columns = [
        ("client", _("Client")), ("engagement", _("Engagement")), ("lead", _("Lead")), ("score", _("Score")),
        ("change_30", _("30 days")), ("change_90", _("90 days")), ("mode", _("Mode")), ("state", _("State")),
        ("status", _("Status")), ("days", _("Days since last session")), ("flags", _("Live flags")),
    ]
    current = sort.lstrip("-")
    headers = []
    for key, label in columns:
        active = key == current
        descending = sort.startswith("-")
        if key in selectors.DESCENDING_FIRST:  # e.g. state: transactional first, then back
            next_sort = key if active and descending else f"-{key}"
        else:
            next_sort = ("" if key == selectors.DEFAULT_SORT else key) if active and descending else (
                f"-{key}" if active else key)
        headers.append({
            "key": key, "label": label, "active": active, "descending": descending,
            "url": _querystring(request, sort=next_sort or None, page=None),
            "aria_sort": ("descending" if descending else "ascending") if active else None,
            "numeric": key in {"score", "change_30", "change_90", "days", "flags"},
        })
    # Formatted once, not once per point: the map can hold 200 points with four trail dates each.
    modes, states = {m.value: str(m.label) for m in Mode}, {s.value: str(s.label) for s in State}
    trail_dates = {day: date_format(day, "SHORT_DATE_FORMAT") for day in relationship_map.trail_dates}
    map_data = {
        "points": [
            {"id": p.engagement_id, "label": p.label, "lead": p.lead, "score": p.score, "x": p.balance, "y": p.depth,
             "mode": modes.get(p.mode, ""), "state": states.get(p.state, ""), "url": detail_url(p.engagement_id),
             # Named on the map: a low score, or a relationship that has turned transactional.
             "at_risk": (p.score is not None and p.score < 50) or p.state == State.TRANSACTIONAL,
             "trail": [{"x": b, "y": d, "date": trail_dates.get(day) or date_format(day, "SHORT_DATE_FORMAT")}
                       for day, b, d in p.trail]}
            for p in relationship_map.points
        ],
        "zone": {"low": config.expert_led_below, "high": config.client_led_above,
                 "consultative": config.consultative_depth},
        "labels": {
            "x": _("Balance: who drives the work"), "y": _("Depth: how consultative the conversation is"),
            "consultant_driven": _("Consultant-driven"), "client_driven": _("Client-driven"),
            "transactional": _("Transactional"), "consultative": _("Consultative"),
            "zone": _("Co-production zone"), "score": _("Score"), "lead": _("Lead"),
            "trail": _("Trail over the last four quarters"), "now": _("Now"),
            "balance": _("Balance"), "depth": _("Depth"),
        },
    }
    return {
        "form": form,
        # What the filter form shows (its fragment-cache key): the query's values and the lead menu.
        "filter_content": ("portfolio-filter", sorted(request.GET.lists()), form.lead_choices),
        "page": page,
        "summary": summary,
        "live_flags": selectors.live_flags_in_portfolio(user=request.user, engagements=portfolio),
        "headers": headers,
        "relationship_map": relationship_map,
        "map_data": map_data,
        "export_query": _querystring(request, page=None),
        # Each summary tile opens the table narrowed to what it counts (on top of the filters in use).
        "tile_queries": {
            "all": _querystring(request, page=None),
            "score": _querystring(request, sort="score", page=None),
            "transactional": _querystring(request, state="transactional", page=None),
            "one_sided": _querystring(request, mode=selectors.ONE_SIDED, page=None),
            "on_watch": _querystring(request, watch="1", page=None),
        },
        "page_query": _querystring(request, page=None),
        "trail_dates": relationship_map.trail_dates,
    }


@require_GET
@manager_required
def trends(request):
    """Score distribution and consultative share over the last 12 months (an HTMX partial or a page)."""
    today = timezone.localdate()
    # Twelve months of history move once a night (and a little with each logged session): compute
    # them once per quarter of an hour rather than on every visit.
    key = f"dashboard:trends:{request.user.pk}:{today.isoformat()}:{translation.get_language()}"
    cached = cache.get(key)
    if cached is None:
        cached = (selectors.score_distribution(user=request.user, today=today),
                  selectors.consultative_share(user=request.user, today=today))
        cache.set(key, cached, TRENDS_CACHE_SECONDS)
    distribution, share = cached
    bins = [f"{low}–{min(high, 100)}" for low, high in selectors.SCORE_BINS]
    # This month is under way: its bars are today's snapshots and its share counts the sessions so
    # far (a few days of them can read as a collapse). Both are labelled so, and the share's last
    # stretch is drawn dashed.
    months = [date_format(m.date, "YEAR_MONTH_FORMAT") for m in distribution]
    months[-1] = _("%(month)s (today)") % {"month": months[-1]}
    share_months = [date_format(m, "YEAR_MONTH_FORMAT") for m in share.months]
    share_months[-1] = _("%(month)s (so far)") % {"month": share_months[-1]}
    trends_data = {
        "months": months,
        "bins": bins,
        "counts": [m.bins for m in distribution],
        "mean": [m.mean_score for m in distribution],
        "share_months": share_months,
        "partial_last": True,
        "share": share.overall.shares,
        "labels": {"engagements": _("Engagements"), "mean": _("Mean score"),
                   "share": _("Consultative share of session minutes"), "overall": _("Whole firm")},
    }
    template = "dashboard/_trends.html" if request.htmx else "dashboard/trends.html"
    return render(request, template, {
        "distribution": distribution,
        "share": share,
        "bins": bins,
        "trends_data": trends_data,
        "today": today,
    })


class _Echo:
    def write(self, value):
        return value


@require_GET
@manager_required
def export(request):
    """The filtered, sorted portfolio as CSV: every row the table pages through, not only this page."""
    form = _portfolio_form(request)
    sort = selectors.normalise_sort(request.GET.get("sort"))
    rows = selectors.portfolio(user=request.user, filters=form.filters(), sort=sort)
    today = timezone.localdate()
    # Where the decimal separator is a comma (French), spreadsheets expect fields split by semicolons.
    delimiter = ";" if get_format("DECIMAL_SEPARATOR") == "," else ","
    writer = csv.writer(_Echo(), delimiter=delimiter)
    modes, states = dict(Mode.choices), dict(State.choices)
    header = [_("Client"), _("Engagement"), _("Lead"), _("Status"), _("Score"), _("Change over 30 days"),
              _("Change over 90 days"), _("Mode"), _("State"), _("Depth"), _("Balance"),
              _("Days since last session"), _("Live flags"), _("Early signs (on watch)"), _("Snapshot date")]

    def lines():
        # The byte order mark tells Excel the file is UTF-8 (else "Inès" opens as "InÃ¨s").
        yield "\ufeff" + writer.writerow(csv_row(header))
        for row in rows.iterator(chunk_size=2000):
            days = row.days_since_session
            if days is not None and row.latest_on:
                days += (today - row.latest_on).days
            # Names and titles are typed by users: csv_row() keeps a spreadsheet from running them as formulas.
            yield writer.writerow(csv_row([
                row.client_name, row.title, row.lead_name, row.get_status_display(), number_cell(row.score, 1),
                number_cell(row.change_30, 1), number_cell(row.change_90, 1),
                str(modes.get(row.mode, row.mode or "")), str(states.get(row.state, row.state or "")),
                number_cell(row.depth, 3), number_cell(row.balance, 3), days,
                row.live_flags, row.watch_count or 0, row.latest_on.isoformat() if row.latest_on else "",
            ]))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="portfolio-{today.isoformat()}.csv"'
    return response


@require_GET
@manager_required
def flags(request):
    """The flag queue: live flags, most severe then newest first, each with its evidence, actions and history."""
    owners = list(selectors.flag_owners())
    form = FlagFilterForm(request.GET or None, owners=owners)
    if form.is_bound:
        form.is_valid()
    queue = selectors.flag_queue(user=request.user, filters=form.filters())
    page = Paginator(queue, selectors.FLAG_PAGE_SIZE).get_page(request.GET.get("page"))
    for flag in page.object_list:
        flag.engagement.detail_url = detail_url(flag.engagement_id)
        flag.card_content = flag_card_content(flag)
    owner_choices = tuple((person.pk, str(person)) for person in owners)
    filters = form.filters()
    counts = selectors.attention_by_severity(user=request.user)
    engagement = None
    if filters.engagement:
        engagement = (access.engagements_for(request.user).select_related("client")
                      .filter(pk=filters.engagement).first())
    closed_view = filters.status == "closed"
    on_watch, on_watch_total = ([], 0) if closed_view else selectors.engagements_on_watch(user=request.user)
    for health in on_watch:
        health.detail_url = detail_url(health.engagement_id)
    return render(request, "dashboard/flags.html", {
        "form": form,
        "closed_view": closed_view,
        "on_watch": on_watch,
        "on_watch_total": on_watch_total,
        "engagement": engagement,
        "page": page,
        "page_query": _querystring(request, page=None),
        "flag_card": FLAG_CARD,
        "owners": owners,
        # The cards' owner menus list the same people: read once for the page (workspace.owner_options).
        "assignable_owners": owners,
        # What the filter form shows (its fragment-cache key): the query's values and the owner menu.
        "filter_content": ("flag-filter", sorted(request.GET.lists()), owner_choices),
        # What every card shows besides its flag (with flag.card_content, a card's fragment-cache key):
        # the owner menu, and tomorrow as the earliest snooze date.
        "card_context": (owner_choices, timezone.localdate()),
        "severity_counts": [(value, label, counts.get(value, 0)) for value, label in Flag.Severity.choices],
    })

