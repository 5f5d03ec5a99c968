"""Fetching a calendar feed from the address a consultant gave, without letting that address reach
anything it should not.

A feed address is typed by a user, so the server must not become their proxy into the firm's
network: only http(s); the host name is resolved here and every address it resolves to must be a
public one (no loopback, private, link-local, multicast or reserved range, IPv4-mapped IPv6
included), then the connection goes to that checked address (so a second DNS answer cannot swap
it); redirects are followed by hand, at most five, each checked the same way. The body is cut at
``CALENDAR_MAX_BYTES`` (after decompression), the whole fetch at ``CALENDAR_FETCH_TIMEOUT``
seconds. ``CALENDAR_ALLOW_PRIVATE_ADDRESSES`` lifts the address rule, for tests and calendars
served inside the firm.

The address is a secret (whoever has it reads the calendar): it never appears in a log line or an
error message; ``mask_url`` is how it is shown back.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 5
USER_AGENT = "Rapport calendar import"


class FeedError(Exception):
    """The feed could not be read; the message is safe to show its owner (it never holds the address)."""


@dataclass
class FetchResult:
    not_modified: bool
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


def mask_url(url: str) -> str:
    """``https://calendar.example.com/…a1b2``: enough for its owner to recognise it, useless to anyone else."""
    parts = urlsplit(url or "")
    tail = (url or "")[-4:] if len(url or "") > 12 else ""
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…{tail}" if host else "…"


def check_url_shape(url: str) -> None:
    """Refuse what is not an absolute http(s) address (raised as FeedError)."""
    try:
        parts = urlsplit((url or "").strip())
        parts.port  # noqa: B018  (raises ValueError on a port out of range)
    except ValueError:
        raise FeedError(_("This is not a valid address.")) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FeedError(_("Only http:// and https:// calendar addresses can be read (webcal:// works as https://)."))
    if not parts.hostname:
        raise FeedError(_("This calendar address has no host name."))
    if parts.username or parts.password:
        raise FeedError(_("Calendar addresses with a user name or password in them are not supported."))


def normalise_url(url: str) -> str:
    """webcal:// (what calendar apps hand out for subscriptions) is https:// underneath."""
    url = (url or "").strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://"):]
    return url


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def resolve_checked(host: str, port: int) -> str:
    """One address of ``host`` to connect to, after checking all of them are allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FeedError(_("The calendar's host name could not be found.")) from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FeedError(_("The calendar's host name could not be found."))
    if not settings.CALENDAR_ALLOW_PRIVATE_ADDRESSES and not all(_is_public(a) for a in addresses):
        raise FeedError(_("This calendar address points to a private or local network address, which is "
                              "not allowed."))
    return addresses[0]


def _request(url: str, headers: dict, deadline: float):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    address = resolve_checked(parts.hostname, port)
    remaining = max(0.5, deadline - time.monotonic())
    timeout = urllib3.Timeout(connect=min(remaining, 10), read=remaining)
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, port=port, timeout=timeout, retries=False, maxsize=1,
                                           server_hostname=parts.hostname, assert_hostname=parts.hostname,
                                           cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(address, port=port, timeout=timeout, retries=False, maxsize=1)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return pool, pool.urlopen("GET", path, headers={**headers, "Host": host_header}, redirect=False,
                              preload_content=False, decode_content=True)


def fetch_feed(url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
    """GET the feed (conditionally when ``etag``/``last_modified`` are known); FeedError otherwise."""
    max_bytes = settings.CALENDAR_MAX_BYTES
    deadline = time.monotonic() + settings.CALENDAR_FETCH_TIMEOUT
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalise_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        check_url_shape(url)
        try:
            pool, response = _request(url, headers, deadline)
        except FeedError:
            raise
        except urllib3.exceptions.SSLError:
            raise FeedError(_("The calendar server's certificate could not be verified.")) from None
        except (TimeoutError, urllib3.exceptions.TimeoutError):
            raise FeedError(_("The calendar server did not answer in time.")) from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise FeedError(_("The calendar server could not be reached.")) from None
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise FeedError(_("The calendar server sent a redirect without an address."))
                url = urljoin(url, location)
                continue
            if response.status == 304:
                return FetchResult(not_modified=True, etag=etag, last_modified=last_modified)
            if response.status in (401, 403, 404, 410):
                raise FeedError(_("The calendar server refused the address (HTTP %(status)s): it may have been "
                                  "reset or unshared.") % {"status": response.status})
            if response.status != 200:
                raise FeedError(_("The calendar server answered with an error (HTTP %(status)s).")
                                % {"status": response.status})
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(_too_large(max_bytes))
            chunks, size = [], 0
            try:
                for chunk in response.stream(64 * 1024, decode_content=True):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FeedError(_too_large(max_bytes))
                    if time.monotonic() > deadline:
                        raise FeedError(_("The calendar server did not answer in time."))
                    chunks.append(chunk)
            except (TimeoutError, urllib3.exceptions.TimeoutError):
                raise FeedError(_("The calendar server did not answer in time.")) from None
            except (urllib3.exceptions.HTTPError, OSError):
                raise FeedError(_("The calendar could not be downloaded whole.")) from None
            return FetchResult(not_modified=False, body=b"".join(chunks), etag=response.headers.get("ETag", ""),
                               last_modified=response.headers.get("Last-Modified", ""))
        finally:
            response.release_conn()
            pool.close()
    raise FeedError(_("The calendar address redirects too many times."))


def _too_large(max_bytes: int) -> str:
    return _("The calendar is larger than %(size)s MB, the most we read.") % {"size": max_bytes // (1024 * 1024)}
