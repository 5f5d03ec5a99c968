"""X-Forwarded-* headers count only from a trusted proxy (audit F12).

With DJANGO_BEHIND_PROXY=1 and gunicorn reachable directly, a fresh X-Forwarded-For on each
request used to make each one a new client: the sign-in lockout and the API throttles never saw
the same address twice."""

import itertools

import pytest
from django.test import RequestFactory

from config.proxy import ForwardedHeadersMiddleware, client_ip
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
PROXY = "10.0.0.2"
DIRECT = "203.0.113.9"  # somebody on the internet talking to gunicorn without the proxy


@pytest.fixture(autouse=True)
def _behind_a_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def _forged():
    return (f"198.51.100.{n}" for n in itertools.count(1))


def test_a_forged_forwarded_for_from_outside_does_not_dodge_the_lockout(client):
    forged = _forged()
    for index in range(10):
        client.post(LOGIN, {"username": f"guess{index}@firm.example", "password": "nope-nope"},
                    REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=next(forged))
    user = factories.ConsultantFactory(email="someone@firm.example")
    blocked = client.post(LOGIN, {"username": user.email, "password": PASSWORD},
                          REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=next(forged))
    assert blocked.status_code == 429


def test_through_the_trusted_proxy_each_client_counts_alone(client):
    for index in range(10):
        client.post(LOGIN, {"username": f"guess{index}@firm.example", "password": "nope-nope"},
                    REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.66")
    user = factories.ConsultantFactory(email="someone@firm.example")
    attacker = client.post(LOGIN, {"username": user.email, "password": PASSWORD},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.66")
    neighbour = client.post(LOGIN, {"username": user.email, "password": PASSWORD},
                            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.77")
    assert (attacker.status_code, neighbour.status_code) == (429, 302)


def test_a_forged_forwarded_for_does_not_dodge_the_token_endpoints_throttle(client):
    user = factories.ConsultantFactory(email="api@firm.example")
    forged = _forged()
    statuses = [client.post(TOKEN, {"email": user.email, "password": PASSWORD}, content_type="application/json",
                            REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=next(forged)).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]


@pytest.mark.parametrize("peer, forwarded_for, expected", [
    (DIRECT, "198.51.100.1", DIRECT),                     # not our proxy: the header is ignored
    (PROXY, "198.51.100.1", "198.51.100.1"),
    (PROXY, "6.6.6.6, 198.51.100.1", "198.51.100.1"),     # the left part was written by the client
    (PROXY, "198.51.100.1, 10.0.0.9", "198.51.100.1"),    # a second trusted proxy in the chain
    (PROXY, "not-an-address", PROXY),
    (PROXY, "", PROXY),
])
def test_the_client_address(rf, peer, forwarded_for, expected):
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected


def test_forwarded_headers_from_outside_are_dropped_before_anything_reads_them():
    seen = {}
    middleware = ForwardedHeadersMiddleware(lambda request: seen.update(secure=request.is_secure(),
                                                                        forwarded=request.META.get(
                                                                            "HTTP_X_FORWARDED_FOR")))
    factory = RequestFactory()
    middleware(factory.get("/", REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="1.2.3.4"))
    assert seen == {"secure": False, "forwarded": None}
    middleware(factory.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https",
                           HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1"))
    assert seen == {"secure": True, "forwarded": "198.51.100.1"}


def test_without_a_proxy_no_forwarded_header_counts(settings):
    settings.BEHIND_PROXY = False
    seen = {}
    ForwardedHeadersMiddleware(lambda request: seen.update(ip=client_ip(request),
                                                           forwarded=request.META.get("HTTP_X_FORWARDED_FOR")))(
        RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4"))
    assert seen == {"ip": "127.0.0.1", "forwarded": None}
