"""Which proxy Rapport believes, and the client address it forwarded (audit F12).

Behind a proxy (``DJANGO_BEHIND_PROXY=1``) the client's address and scheme come from the proxy's
X-Forwarded-For and X-Forwarded-Proto. Anyone who reaches gunicorn directly can send those
headers too, so they count only when the request comes from an address in
``DJANGO_TRUSTED_PROXIES``; from anywhere else (or with no proxy configured) they are removed
before anything reads them: the sign-in lockout, the API throttles, ``request.is_secure()``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED")


def _address(value: str | None):
    try:
        return ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None


def is_trusted_proxy(value: str | None) -> bool:
    address = _address(value)
    return address is not None and any(address in network for network in settings.TRUSTED_PROXY_NETWORKS)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, from a trusted proxy, the first address in
    X-Forwarded-For (read from the right) that is not a trusted proxy itself. Addresses further
    left were written by the client and prove nothing."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    if not settings.BEHIND_PROXY or not is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return remote  # the proxy wrote something unexpected: believe only the connection
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else remote


class ForwardedHeadersMiddleware:
    """First in the stack: forwarded headers survive only from a trusted proxy, and then
    X-Forwarded-For is reduced to the one address that proxy vouches for (what DRF's throttles
    and every other reader then see)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if settings.BEHIND_PROXY and is_trusted_proxy(meta.get("REMOTE_ADDR")):
            if meta.get("HTTP_X_FORWARDED_FOR"):
                meta["HTTP_X_FORWARDED_FOR"] = client_ip(request)
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
