"""The production stack, as far as this machine allows.

`docker compose config` validates docker-compose.yml. Then the web, worker and beat services are
started by hand with the very commands docker-compose.yml gives them and a production
environment (DEBUG off, a strong secret, behind a TLS-terminating proxy), against the test's
PostgreSQL database and Redis, and a smoke test walks them: health check, login page with its
security headers, static files from WhiteNoise, a real sign-in, and a task consumed by the worker.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests import factories
from tests.reliability.support import celery_broker

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
PASSWORD = "smoke-test-passphrase-2026"


def _compose_command() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_is_valid(tmp_path):
    compose = _compose_command()
    if compose is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run([*compose, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_compose_declares_the_whole_stack_with_health_checks():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "proxy", "worker", "beat"}
    assert "healthcheck" in services["db"] and "healthcheck" in services["redis"]
    assert "--appendonly" in services["redis"]["command"] and "noeviction" in services["redis"]["command"]
    assert set(spec["volumes"]) == {"pgdata", "redisdata", "caddydata", "caddyconfig"}


def test_web_nodes_scale_behind_the_proxy():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    # `--scale web=3` needs no fixed host port and no container name on web; only the proxy is published.
    assert "ports" not in services["web"] and "container_name" not in services["web"]
    assert "container_name" not in services["worker"]
    assert services["proxy"]["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(services["proxy"]["ports"])
    assert "./ops/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    caddyfile = (ROOT / "ops" / "Caddyfile").read_text()
    assert "dynamic a web 8000" in caddyfile and "encode zstd gzip" in caddyfile
    assert 'Cache-Control "public, max-age=31536000, immutable"' in caddyfile
    # Migrations run once, before any node starts, not in parallel in every web container.
    assert "migrate" not in " ".join(services["web"]["command"])
    assert services["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER'] or 'postgres'}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _service_command(name: str, port: int) -> list[str]:
    """The service's command from docker-compose.yml, with the port and interpreter of this machine."""
    command = yaml.safe_load(COMPOSE.read_text())["services"][name]["command"]
    return [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}").replace("python ", f"{sys.executable} ")
            for part in command]


class Browserless:
    """A tiny HTTP client that behaves like a browser behind the firm's HTTPS proxy."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, path: str, data: dict | None = None):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://{urllib.parse.urlsplit(self.base).netloc}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310  (http://127.0.0.1)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        return response.status, dict(response.headers), response.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def stack(tmp_path, request):
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip("the production smoke test needs DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    redis_server = request.getfixturevalue("redis_server")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "SESSION_"))},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_BEHIND_PROXY": "1",
        "DATABASE_URL": _database_url(),
        # A Redis of the stack's own: what beat sends just before the services stop stays there,
        # not in the suite's broker (CI fails a run that leaves messages behind).
        "REDIS_URL": redis_server.url,
    }
    # What the Dockerfile does at build time.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    processes = {}
    logs = {}
    for name in ("web", "worker", "beat"):
        logs[name] = open(tmp_path / f"{name}.log", "w+")  # noqa: SIM115  (closed in the teardown below)
        processes[name] = subprocess.Popen(_service_command(name, port), cwd=tmp_path if name == "beat" else ROOT,
                                           env={**env, "PYTHONPATH": str(ROOT)}, stdout=logs[name],
                                           stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)  # noqa: S310  (our own local server)
            break
        except OSError:  # refused, reset or timed out while gunicorn boots
            time.sleep(0.5)
    yield base, processes, logs, redis_server
    for process in processes.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    for log in logs.values():
        log.close()


def _log(logs, name):
    logs[name].flush()
    logs[name].seek(0)
    return logs[name].read()


@pytest.mark.django_db(transaction=True)
def test_the_compose_services_started_by_hand_pass_the_smoke_test(stack):
    base, processes, logs, redis_server = stack
    client = Browserless(base)

    status, _, body = client.request("/healthz")
    assert status == 200, _log(logs, "web")
    assert json.loads(body) == {"status": "ok", "database": True, "broker": True}

    status, headers, page = client.request("/accounts/login/")
    assert status == 200
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    stylesheet = re.search(r'href="(/static/css/rapport\.[0-9a-f]+\.css)"', page)
    assert stylesheet, "static files should be served under their hashed names"
    assert client.request(stylesheet.group(1))[0] == 200

    manager = factories.ManagerFactory(email="smoke@firm.example")
    hasher = PBKDF2PasswordHasher()  # one the production settings verify (tests use a fast one)
    manager.password = hasher.encode(PASSWORD, hasher.salt())
    manager.save(update_fields=["password"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, headers, _ = client.request("/accounts/login/", {
        "csrfmiddlewaretoken": token, "username": manager.email, "password": PASSWORD})
    assert status == 302, "sign-in should succeed"
    status, headers, _ = client.request("/")
    # Signed in; in production a manager's next stop is setting up the second factor.
    assert status == 302 and headers["Location"].startswith("/accounts/mfa/setup/")

    # The worker consumes from Redis: a rescore queued here ends as a snapshot written by it.
    from health.models import HealthSnapshot
    from health.tasks import score_engagement

    engagement = factories.EngagementFactory()
    factories.SessionFactory(engagement=engagement)
    with celery_broker(redis_server.url):
        score_engagement.delay(engagement.pk)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not HealthSnapshot.objects.filter(engagement=engagement).exists():
        time.sleep(0.5)
    assert HealthSnapshot.objects.filter(engagement=engagement).exists(), _log(logs, "worker")

    assert processes["beat"].poll() is None, _log(logs, "beat")
    assert "beat: Starting" in _log(logs, "beat")

    # Link tokens stay out of gunicorn's access log and Django's log lines (audit F10).
    client.cookies.clear()
    for link in ("/portal/pulse/MQ/smoke-secret-1/", "/portal/invitation/MQ/smoke-secret-2/",
                 "/accounts/password/reset/MQ/smoke-secret-3/"):
        assert client.request(link)[0] in (200, 302, 404)
    time.sleep(0.5)
    web_log = _log(logs, "web")
    assert "/portal/pulse/MQ/[redacted]" in web_log, web_log[-2000:]
    assert "smoke-secret" not in web_log
