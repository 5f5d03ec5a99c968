"""Two web nodes sharing PostgreSQL and Redis, as docker-compose.yml runs them behind the proxy.

Two gunicorn servers (two workers each) on two ports, started like the compose services with the
production settings, against the test's PostgreSQL database and a redis-server of the test's own
(broker on database 0, cache on database 1 as CACHE_URL defaults to). They show what must agree
across processes does: the token endpoint's throttle counts attempts made on either node, a session
signed in on one node is valid on the other, the dashboard's page cache is shared and a flag changed
on one node is gone from the page on both. The last test stops Redis under the running nodes: pages
still answer (cache misses), the throttle lets requests through (the sign-in lockout still counts in
the database) and nothing answers 500.

They need PostgreSQL (gunicorn cannot open SQLite's in-memory test database) and redis-server;
without them they skip, and under CI=true they fail (tests/conftest.py).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests import factories
from tests.ops.test_compose_smoke import Browserless
from tests.reliability.support import ROOT, free_port, wait_for, worker_database_url

PASSWORD = "two-nodes-passphrase-2026"
TOKEN_RATE = 10  # API_TOKEN_RATE's default, 10/minute


class Node:
    """One gunicorn server (docker-compose.yml's web command) on a port of its own."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = log_dir / f"{name}-access.log"
        self.output = log_dir / f"{name}.log"  # gunicorn's own messages and the application's log
        with open(self.output, "w") as output:
            self.process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "2", "--access-logfile", str(self.access_log)],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, tail: int = 6000) -> str:
        return self.output.read_text()[-tail:] if self.output.exists() else ""

    def wait_ready(self) -> None:
        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited:\n{self.log()}")
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)  # noqa: S310  (our local server)
                return True
            except OSError:
                return False
        wait_for(answers, timeout=60, interval=0.3, what=f"gunicorn {self.name}", diagnostics=self.log)

    def answered(self) -> list[tuple[str, int]]:
        """(path, status) of every request this node answered, from its access log."""
        if not self.access_log.exists():
            return []
        return [(path, int(status)) for path, status in
                re.findall(r'"[A-Z]+ (\S+) HTTP/[\d.]+" (\d{3}) ', self.access_log.read_text())]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def nodes(transactional_db, redis_server, tmp_path):
    env = {
        **{k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "PYTEST", "SESSION_", "CACHE_", "REDIS_", "LOGIN_", "MFA_"))},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_BEHIND_PROXY": "1",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_server.url,
        # The throttle, not the lockout, is under test: the lockout would refuse the 11th failure too.
        "LOGIN_FAILURE_LIMIT": "1000",
        "MFA_REQUIRED_FOR_MANAGERS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",  # as in the Dockerfile: the log is read while the nodes run
    }
    # What the Dockerfile does at build time (the production settings serve hashed static names).
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=180)
    started = [Node("web1", env, tmp_path), Node("web2", env, tmp_path)]
    try:
        for node in started:
            node.wait_ready()
        yield started
    finally:
        for node in started:
            node.stop()


def _token_attempt(node: Node, email: str):
    body = json.dumps({"email": email, "password": "not-the-password"}).encode()
    request = urllib.request.Request(node.base + "/api/v1/auth/token/", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
    try:
        response = urllib.request.urlopen(request, timeout=15)  # noqa: S310  (our local server)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, json.loads(response.read() or b"{}"), response.headers


def _sign_in(node: Node, manager) -> Browserless:
    browser = Browserless(node.base)
    status, _, page = browser.request("/accounts/login/")
    assert status == 200, node.log()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, _, _ = browser.request("/accounts/login/", {"csrfmiddlewaretoken": token, "username": manager.email,
                                                        "password": PASSWORD})
    assert status == 302, "sign-in should succeed"
    return browser


def _manager():
    manager = factories.ManagerFactory(email="two-nodes@firm.example")
    hasher = PBKDF2PasswordHasher()  # one the production settings verify (tests use a fast one)
    manager.password = hasher.encode(PASSWORD, hasher.salt())
    manager.save(update_fields=["password"])
    return manager


def _on(browser: Browserless, node: Node) -> Browserless:
    """The same browser (same cookies) sent to another node, as the proxy may do on any request."""
    other = Browserless(node.base)
    other.cookies = browser.cookies
    return other


def _flags_figure(page: str) -> int:
    match = re.search(r'<span class="dash-figure">(\d+)</span><span>flags needing attention', page)
    assert match, "the dashboard shows how many flags need attention"
    return int(match.group(1))


def _no_server_errors(*nodes: Node) -> None:
    for node in nodes:
        # /healthz answers 503 on purpose when the broker is down; nothing else may answer 5xx.
        errors = [(path, status) for path, status in node.answered() if status >= 500 and path != "/healthz"]
        assert not errors, f"{node.name} answered {errors}:\n{node.log()}"


def test_the_token_throttle_counts_attempts_on_both_nodes_together(nodes):
    web1, web2 = nodes
    # Ten failed attempts a minute from one client, spread over the two nodes: each is a plain 401.
    for attempt in range(TOKEN_RATE):
        status, body, _ = _token_attempt(nodes[attempt % 2], f"nobody{attempt}@firm.example")
        assert status == 401, body
    # The eleventh is refused whichever node gets it, and so is the twelfth on the other.
    for node in (web1, web2):
        status, body, headers = _token_attempt(node, "nobody-more@firm.example")
        assert status == 429, (node.name, body)
        assert body["code"] == "throttled" and "Too many failed sign-ins" not in body["detail"]
        assert int(headers["Retry-After"]) > 0
    _no_server_errors(web1, web2)


def test_sessions_and_the_dashboard_page_cache_are_shared_and_invalidated_on_both_nodes(nodes, redis_server):
    web1, web2 = nodes
    manager = _manager()
    engagement = factories.EngagementFactory(title="Harbour renewal")
    flag = factories.FlagFactory(engagement=engagement, kind="cadence_drop")

    on_web1 = _sign_in(web1, manager)
    on_web2 = _on(on_web1, web2)  # signed in on web1, the session cookie works on web2 (sessions in the DB)
    status, _, page = on_web1.request("/dashboard/")
    assert status == 200 and _flags_figure(page) == 1

    # The page is cached in Redis, not in web1's memory: web2 serves web1's copy even after a change
    # made behind the application's back (no version moved; only the expiry would catch it).
    cache_db = redis.Redis(host="127.0.0.1", port=redis_server.port, db=1, socket_timeout=2)
    assert cache_db.keys("rapport:*dashboard:home*")
    type(engagement).objects.filter(pk=engagement.pk).update(title="Renamed behind the cache")
    status, _, page = on_web2.request("/dashboard/")
    assert status == 200 and "Harbour renewal" in page and "Renamed behind the cache" not in page

    # web2 resolves the flag: on both nodes the next dashboard is built afresh and the flag is gone.
    status, _, _ = on_web2.request(f"/engagements/flags/{flag.pk}/resolve/", {
        "csrfmiddlewaretoken": on_web2.cookies["csrftoken"], "action_plan": "repair",
        "resolution_note": "Weekly call with the sponsor"})
    assert status in (200, 302)
    flag.refresh_from_db()
    assert flag.status == "resolved"
    for browser in (on_web1, on_web2):
        status, _, page = browser.request("/dashboard/")
        assert status == 200 and _flags_figure(page) == 0
        assert "Renamed behind the cache" in page
    _no_server_errors(web1, web2)


def test_pages_still_answer_when_redis_stops_under_the_nodes(nodes, redis_server):
    web1, web2 = nodes
    manager = _manager()
    engagement = factories.EngagementFactory(title="Harbour renewal")
    factories.FlagFactory(engagement=engagement, kind="cadence_drop")
    browser = _sign_in(web1, manager)
    pages = ["/dashboard/", "/dashboard/flags/", f"/engagements/{engagement.pk}/", "/engagements/",
             "/dashboard/trends/"]
    for path in pages:
        assert browser.request(path)[0] == 200, path

    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        redis_server.client().ping()

    for node in (web1, web2):
        on_node = _on(browser, node)
        for path in pages:
            status, _, page = on_node.request(path)
            assert status == 200, (node.name, path, node.log())
        assert "Harbour renewal" in on_node.request("/dashboard/")[2]
        # Without Redis the throttle counts nothing and lets attempts through (documented in docs/api.md);
        # the sign-in lockout still counts them in the database.
        for attempt in range(TOKEN_RATE + 2):
            status, body, _ = _token_attempt(node, f"nobody{attempt}@firm.example")
            assert status == 401, body
        # The health check says the broker is down (503): it is for the proxy and the orchestrator.
        status, _, body = on_node.request("/healthz")
        assert status == 503 and json.loads(body)["broker"] is False
    _no_server_errors(web1, web2)
    # Each node logged the outage once per worker process, not once per request.
    warnings = sum(node.log(tail=0).count("cache: Redis unavailable") for node in nodes)
    assert 1 <= warnings <= 4
