"""Link tokens (password reset, portal invitation, pulse) stay out of the logs (audit F10).

A logged link is a working one. The portal's links swap their token for a session value on first
use, as Django's password reset does, so later requests and Referer headers never carry it; what
is logged anyway (the first request, a refused link) goes through a filter on Django's log
handler and a redacting access logger in gunicorn. The real gunicorn is checked by the compose
smoke test (tests/ops/test_compose_smoke.py).
"""

import datetime as dt
import io
import logging
import re
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse
from gunicorn.config import Config

from feedback.models import FeedbackResponse
from portal import services
from tests import factories

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-42"


def _link(message) -> str:
    return re.search(r"https?://\S+?(/portal/\S+/)", message.body).group(1)


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def pulse_link(engagement, consultant, django_capture_on_commit_callbacks):
    contact = factories.ContactFactory(client=engagement.client, email="tom@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        [pulse] = services.pulse_send(engagement=engagement, contacts=[contact], requested_by=consultant)
    return pulse, _link(mail.outbox[-1])


def test_a_pulse_link_swaps_its_token_for_the_session(client, pulse_link):
    pulse, link = pulse_link
    first = client.get(link)
    assert first.status_code == 302 and _token(link) not in first.url and first.url.endswith("/continue/")
    page = client.get(first.url)
    assert page.status_code == 200 and _token(link) not in page.content.decode()
    client.post(first.url, {"rating": "4", "involvement": "4"})
    assert FeedbackResponse.objects.filter(request=pulse).exists()


def test_the_clean_url_alone_opens_nothing(client, pulse_link):
    """Without the session that followed the link, the placeholder URL is just an invalid link."""
    _, link = pulse_link
    clean = client.get(link).url
    stranger = client.__class__()
    assert stranger.get(clean).status_code == 404


def test_an_invitation_link_swaps_its_token_for_the_session(client, engagement, consultant,
                                                            django_capture_on_commit_callbacks):
    contact = factories.ContactFactory(client=engagement.client, name="Nina New", email="nina@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(contact=contact, invited_by=consultant, base_url="https://rapport.example")
    link = _link(mail.outbox[-1])
    first = client.get(link)
    assert first.status_code == 302 and _token(link) not in first.url
    done = client.post(first.url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("portal:home")


def test_django_log_lines_never_carry_a_link_token(client, consultant, capsys):
    logging.getLogger("rapport.security").info("login", extra={"path": "/portal/invitation/MQ/secret-one/"})
    client.get("/portal/pulse/MQ/secret-two/")                 # refused: Django logs "Not Found: <path>"
    client.get("/portal/invitation/MQ/secret-three/")
    out = capsys.readouterr().out
    assert "Not Found: /portal/pulse/MQ/[redacted]" in out
    assert "secret-" not in out


def test_the_filter_redacts_extra_fields_and_requests_too():
    from config.logging import RedactTokensFilter

    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found: %s",
                               ("/portal/pulse/MQ/abc-123/",), None)
    record.request = "<WSGIRequest: GET '/accounts/password/reset/MQ/abc-456/'>"
    record.path = "/portal/invitation/MQ/abc-789/"
    assert RedactTokensFilter().filter(record)
    assert "abc-" not in record.getMessage() + record.request + record.path


@pytest.mark.parametrize("text, expected", [
    ("/accounts/password/reset/MQ/cz1k8e-0f1e2d3c4b5a/", "/accounts/password/reset/MQ/[redacted]/"),
    ("/accounts/password/reset/MQ/set-password/", "/accounts/password/reset/MQ/set-password/"),
    ("/accounts/password/reset/sent/", "/accounts/password/reset/sent/"),
    ("https://rapport.example/portal/pulse/Mw/abc-def/?x=1", "https://rapport.example/portal/pulse/Mw/[redacted]/?x=1"),
    ("/portal/pulses/3/", "/portal/pulses/3/"),
])
def test_what_is_redacted(text, expected):
    from config.logging import redact_tokens

    assert redact_tokens(text) == expected


def test_gunicorns_access_log_writes_links_without_their_tokens():
    from config.gunicorn_conf import RedactingLogger

    config = Config()
    config.set("accesslog", "-")
    logger = RedactingLogger(config)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.stream = stream
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/portal/pulse/MQ/tok-secret-1/", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/portal/pulse/MQ/tok-secret-1/", "QUERY_STRING": "", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": "https://rapport.example/portal/invitation/MQ/tok-secret-2/"}
    response = SimpleNamespace(status="302 Found", headers=[], sent=0)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    logger.access(response, request, environ, dt.timedelta(milliseconds=5))
    line = stream.getvalue()
    assert "GET /portal/pulse/MQ/[redacted]/ HTTP/1.1" in line and "tok-secret" not in line


def test_the_image_and_compose_run_gunicorn_with_that_logger():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    web = " ".join(yaml.safe_load((root / "docker-compose.yml").read_text())["services"]["web"]["command"])
    assert "gunicorn -c config/gunicorn_conf.py" in web
    assert '"gunicorn", "-c", "config/gunicorn_conf.py"' in (root / "Dockerfile").read_text()


def test_the_proxys_access_log_filters_the_same_links():
    """ops/Caddyfile's log filter: its patterns (RE2, which Python's re reads the same here) applied
    to the request path and the Referer. Also checked by hand: caddy 2.6.2 serving this file logged
    a pulse link and an invitation Referer as [redacted]."""
    from pathlib import Path

    caddyfile = (Path(__file__).resolve().parents[2] / "ops" / "Caddyfile").read_text()
    rules = dict(re.findall(r'request>(uri|headers>Referer) regexp "([^"]+)" "\$\{1\}\[redacted\]"', caddyfile))
    assert set(rules) == {"uri", "headers>Referer"}
    assert re.sub(rules["uri"], r"\1[redacted]", "/portal/pulse/MQ/abc-123/?a=1") == "/portal/pulse/MQ/[redacted]/?a=1"
    assert re.sub(rules["uri"], r"\1[redacted]", "/portal/pulses/3/") == "/portal/pulses/3/"
    referer = "https://rapport.example/accounts/password/reset/MQ/cz1-9f8e/"
    assert re.sub(rules["headers>Referer"], r"\1[redacted]", referer).endswith("/reset/MQ/[redacted]/")
