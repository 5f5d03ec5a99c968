"""Checks every HTML page (and HTMX fragment) the test suite renders, whichever way it renders it.

``HtmlChecksMiddleware`` is added to MIDDLEWARE for the whole test session (``tests/conftest.py``),
so it sees the responses of Django's test client and of the live server the browser tests drive.
A problem found is recorded, not raised (an exception in the live server's thread would only turn
into a 500 the browser test might not notice); an autouse fixture fails the test that rendered it.

What it checks:
- no two elements share an ``id``: a label's ``for`` (and ``aria-*`` references) then point at the
  first one, so clicking a label can flip a checkbox of another form on the page;
- ``<time datetime>`` carries a valid, microsecond-free value.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from html.parser import HTMLParser

_problems: list[str] = []
_lock = threading.Lock()

# https://html.spec.whatwg.org/#valid-date-string and friends: what <time datetime> accepts, minus
# fractions of a second (valid, but they say the template printed a raw Python datetime).
_TIME_VALUE = re.compile(
    r"^\d{4}-\d{2}(-\d{2})?$"  # month, date
    r"|^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?$"  # (global) date and time
    r"|^\d{2}:\d{2}(:\d{2})?$"  # time
    r"|^\d{4}$"  # year
)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.bad_times: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "time" and "datetime" in values and not _TIME_VALUE.match(values["datetime"] or ""):
            self.bad_times.append(values["datetime"] or "")

    handle_startendtag = handle_starttag


def html_problems(html: str) -> list[str]:
    """What is wrong with this HTML document or fragment, one sentence per problem."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    problems = [f"duplicate id {name!r} ({count} elements)" for name, count in collector.ids.items() if count > 1]
    problems += [f"<time datetime={value!r}> is not a valid date/time (or carries microseconds)"
                 for value in collector.bad_times]
    return problems


def take_problems() -> list[str]:
    """The problems recorded since the last call (and forget them)."""
    with _lock:
        found = list(_problems)
        _problems.clear()
    return found


class HtmlChecksMiddleware:
    """Test-only: records what ``html_problems`` finds in each HTML response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (not getattr(response, "streaming", False) and response.get("Content-Type", "").startswith("text/html")
                and response.content):
            problems = html_problems(response.content.decode(response.charset or "utf-8", errors="replace"))
            if problems:
                with _lock:
                    _problems.extend(f"{request.method} {request.get_full_path()}: {p}" for p in problems)
        return response
