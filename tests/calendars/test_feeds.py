"""Subscribed calendars: a real HTTP server on 127.0.0.1 serves a feed that changes between polls;
the address rules (http(s) only, no private networks unless allowed, redirects re-checked), the
size cap, the timeout, conditional GET, back-off, and the address kept out of the logs."""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from calendars import fetch, services, tasks
from calendars.models import CalendarFeed, CalendarMeeting
from tests.calendars.conftest import NOW, ics

pytestmark = pytest.mark.django_db

State = CalendarMeeting.State


class CalendarServer:
    """A feed served over HTTP: ``body`` can change between requests; ETag support; optional
    redirect or delay."""

    def __init__(self):
        self.body = b""
        self.requests = []
        self.redirect_to = None
        self.delay = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (http.server's name)
                server.requests.append({"path": self.path, "if_none_match": self.headers.get("If-None-Match")})
                if server.delay:
                    time.sleep(server.delay)
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                etag = f'"{hash(server.body) & 0xFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_port}/owa/secret-token-1234/calendar.ics"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with CalendarServer() as running:
        yield running


@pytest.fixture
def private_allowed(settings):
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = True


def _feed(owner, url):
    return CalendarFeed.objects.create(owner=owner, url=url, next_poll_at=NOW - dt.timedelta(minutes=1))


def _inbox(owner):
    return {(m.uid, m.start): m.state for m in CalendarMeeting.objects.filter(owner=owner)}


def test_a_feed_that_changes_between_polls(firm, server, private_allowed):
    server.body = ics("own/series_v1.ics")
    feed = _feed(firm.consultant, server.url)

    first = services.feed_poll(feed_id=feed.pk, now=NOW)
    assert first.created == 16
    assert all(state == State.WAITING for state in _inbox(firm.consultant).values())

    # Nothing changed: the server answers 304 to the conditional GET and nothing is read.
    later = NOW + dt.timedelta(minutes=31)
    unchanged = services.feed_poll(feed_id=feed.pk, now=later)
    assert server.requests[-1]["if_none_match"] and (unchanged.created, unchanged.updated) == (0, 0)

    # A week of changes: the QBR moves and grows, the call is cancelled, the lunch disappears from
    # the feed, one occurrence of the series is cancelled, a reporting call is added.
    server.body = ics("own/series_v2.ics")
    summary = services.feed_poll(feed_id=feed.pk, now=later + dt.timedelta(minutes=31))
    inbox = _inbox(firm.consultant)
    assert (summary.created, summary.updated, summary.cancelled) == (1, 1, 3)
    utc = dt.UTC
    assert inbox[("qbr-february@rapport.test", dt.datetime(2026, 2, 12, 14, tzinfo=utc))] == State.WAITING
    assert inbox[("call-to-cancel@rapport.test", dt.datetime(2026, 3, 16, 8, tzinfo=utc))] == State.CANCELLED
    # Gone from the feed counts as cancelled (an uploaded file would not: it may be a partial export).
    assert inbox[("lunch-to-delete@rapport.test", dt.datetime(2026, 3, 10, 11, tzinfo=utc))] == State.CANCELLED
    assert inbox[("weekly-steering@rapport.test", dt.datetime(2026, 3, 3, 9, tzinfo=utc))] == State.CANCELLED
    assert inbox[("new-reporting@rapport.test", dt.datetime(2026, 3, 18, 16, tzinfo=utc))] == State.WAITING
    feed.refresh_from_db()
    assert (feed.last_error, feed.failure_count) == ("", 0)
    assert feed.next_poll_at == later + dt.timedelta(minutes=31 + 30)


def test_a_feed_at_a_private_address_is_refused_when_the_setting_is_off(firm, server, settings, caplog):
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    server.body = ics("own/series_v1.ics")
    feed = _feed(firm.consultant, server.url)

    assert services.feed_poll(feed_id=feed.pk, now=NOW) is None

    feed.refresh_from_db()
    assert "private or local network address" in feed.last_error
    assert feed.failure_count == 1 and feed.next_poll_at > NOW + dt.timedelta(minutes=30)
    assert server.requests == []  # never even connected
    assert not CalendarMeeting.objects.exists()
    assert all("secret-token" not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254",
                                     "::1", "fe80::1", "::ffff:127.0.0.1", "fd00::1", "0.0.0.0", "224.0.0.1"])  # noqa: S104
def test_private_loopback_and_link_local_addresses_are_refused(address, settings, monkeypatch):
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr("socket.getaddrinfo", lambda *args, **kwargs: [(None, None, None, "", (address, 443))])
    with pytest.raises(fetch.FeedError, match="private or local"):
        fetch.fetch_feed("https://calendar.example.com/secret.ics")


def test_a_redirect_to_a_private_address_is_refused(server, settings, monkeypatch):
    """The first hop is allowed (treated as public here), the redirect target is checked again."""
    settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(fetch, "_is_public", lambda address: address == "127.0.0.1")
    server.redirect_to = f"http://127.0.0.2:{server.httpd.server_port}/internal.ics"
    with pytest.raises(fetch.FeedError, match="private or local"):
        fetch.fetch_feed(server.url)
    assert len(server.requests) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://calendar.example.com/a.ics", "gopher://x/",
                                 "https://user:pass@calendar.example.com/a.ics", "not an address"])
def test_only_http_and_https_addresses_are_accepted(firm, url):
    with pytest.raises(ValidationError):
        services.feed_create(owner=firm.consultant, url=url)
    assert not CalendarFeed.objects.exists()


def test_webcal_addresses_are_read_as_https(firm):
    feed = services.feed_create(owner=firm.consultant, url="webcal://p01-calendars.example.com/published/2/abc")
    assert feed.url.startswith("https://")


def test_a_feed_over_the_size_cap_is_refused(firm, server, private_allowed, settings):
    settings.CALENDAR_MAX_BYTES = 1000
    server.body = ics("own/series_v1.ics")
    with pytest.raises(fetch.FeedError, match="larger than"):
        fetch.fetch_feed(server.url)


def test_a_slow_feed_times_out(server, private_allowed, settings):
    settings.CALENDAR_FETCH_TIMEOUT = 1
    server.delay = 2.5
    server.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    with pytest.raises(fetch.FeedError, match="did not answer in time"):
        fetch.fetch_feed(server.url)


def test_errors_back_off_and_a_success_resets(firm, server, private_allowed):
    server.body = b"<html>Please sign in</html>"
    feed = _feed(firm.consultant, server.url)
    services.feed_poll(feed_id=feed.pk, now=NOW)
    feed.refresh_from_db()
    first_wait = feed.next_poll_at - NOW
    assert "not an iCalendar file" in feed.last_error
    services.feed_poll(feed_id=feed.pk, now=feed.next_poll_at)
    waited = feed.next_poll_at
    feed.refresh_from_db()
    assert feed.failure_count == 2 and feed.next_poll_at - waited > first_wait

    server.body = ics("own/series_v1.ics")
    services.feed_poll(feed_id=feed.pk, now=feed.next_poll_at)
    feed.refresh_from_db()
    assert (feed.failure_count, feed.last_error) == (0, "")


def test_a_feed_not_due_is_not_polled_twice(firm, server, private_allowed):
    server.body = ics("own/series_v1.ics")
    feed = _feed(firm.consultant, server.url)
    services.feed_poll(feed_id=feed.pk, now=NOW)
    assert services.feed_poll(feed_id=feed.pk, now=NOW + dt.timedelta(minutes=5)) is None
    assert len(server.requests) == 1


def test_beat_polls_the_due_feeds(firm, server, private_allowed, time_machine):
    time_machine.move_to(NOW, tick=False)
    server.body = ics("own/series_v1.ics")
    due = _feed(firm.consultant, server.url)
    later = CalendarFeed.objects.create(owner=firm.consultant, url=server.url + "?later",
                                        next_poll_at=NOW + dt.timedelta(hours=1))
    assert tasks.poll_due_feeds() == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.last_success_at == NOW and later.last_polled_at is None
    assert CalendarMeeting.objects.filter(owner=firm.consultant, feed=due).count() == 16


def test_the_address_is_masked():
    assert fetch.mask_url("https://outlook.office365.com/owa/calendar/abcdef0123/xyz9876/calendar.ics") == \
        "https://outlook.office365.com/….ics"
