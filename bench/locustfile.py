"""A busy Monday morning: consultants log sessions and read their home page, clients read the portal
and comment, managers open the dashboard. Run by bench/run_load.sh (see bench/README.md).

Each simulated person signs in once with their own account (logins from the JSON file named by
LOAD_USERS, written by bench/seed_load.py; managers also pass the second factor), then clicks with
a think time of LOAD_WAIT_MIN–LOAD_WAIT_MAX seconds. Requests go to gunicorn over plain HTTP as
if through the TLS proxy: ``X-Forwarded-Proto: https`` on every request, and the secure cookies
sent back as a browser behind the proxy would. Request names are the page, not the URL, so the
summary has one line per page.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import struct
import threading
import time
from urllib.parse import urlsplit

from locust import HttpUser, between, task
from requests.cookies import RequestsCookieJar

LOGINS = json.loads(open(os.environ.get("LOAD_USERS", "bench/out/users.json")).read())  # noqa: SIM115, PTH123
WAIT = between(float(os.environ.get("LOAD_WAIT_MIN", "5")), float(os.environ.get("LOAD_WAIT_MAX", "15")))
_counters = {role: itertools.count() for role in ("consultant", "client", "manager")}
_lock = threading.Lock()

ENGAGEMENT_LINK = re.compile(r'href="/engagements/(\d+)/"')
PORTAL_ENGAGEMENT_LINK = re.compile(r'href="/portal/engagements/(\d+)/"')
MILESTONE_LINK = re.compile(r'href="/portal/milestones/(\d+)/')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
FOCUSES = ["strategy", "positioning", "advisory", "co_creation", "kpi_review", "reporting"]


def next_login(role: str):
    with _lock:
        index = next(_counters[role])
    accounts = LOGINS[role]
    return accounts[index % len(accounts)]


def totp(hex_key: str, at: float | None = None) -> str:
    """RFC 6238 code (30 s, 6 digits, SHA-1), as the manager's authenticator app would show."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(bytes.fromhex(hex_key), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class _BehindTheProxy(RequestsCookieJar):
    """The browser talks HTTPS to the proxy, so it sends the Secure cookies back: kept here without
    the flag, since this client talks plain HTTP to gunicorn (the proxy's side)."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


class Person(HttpUser):
    abstract = True
    wait_time = WAIT
    role = ""

    def on_start(self):
        self.client.cookies = _BehindTheProxy()
        host = urlsplit(self.host).netloc
        self.client.headers.update({"X-Forwarded-Proto": "https", "Referer": f"https://{host}/"})
        login = next_login(self.role)
        email = login["email"] if isinstance(login, dict) else login
        page = self.client.get("/accounts/login/", name="sign in: page")
        token = CSRF_INPUT.search(page.text).group(1)
        with self.client.post("/accounts/login/", name="sign in: submit", catch_response=True, data={
                "csrfmiddlewaretoken": token, "username": email, "password": LOGINS["password"]}) as response:
            if "/accounts/login/" in response.url:
                response.failure(f"sign-in refused for {email}")
                return
        if isinstance(login, dict) and "/accounts/mfa/verify/" in response.url:
            self.second_factor(response, login["totp_key"])
        self.signed_in()

    def second_factor(self, page, key: str) -> None:
        token = CSRF_INPUT.search(page.text).group(1)
        with self.client.post(page.url.replace(self.host, ""), name="sign in: second factor", catch_response=True,
                              data={"csrfmiddlewaretoken": token, "token": totp(key)}) as response:
            if "/accounts/mfa/" in response.url:
                response.failure("second factor refused")

    def signed_in(self):
        pass

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def htmx(self) -> dict:
        return {"HX-Request": "true", "X-CSRFToken": self.csrf()}


class Consultant(Person):
    weight = 10
    role = "consultant"

    def signed_in(self):
        home = self.client.get("/engagements/", name="consultant: home")
        self.engagements = sorted(set(ENGAGEMENT_LINK.findall(home.text))) or []

    @task(4)
    def home(self):
        self.client.get("/engagements/", name="consultant: home")

    @task(3)
    def engagement(self):
        if self.engagements:
            self.client.get(f"/engagements/{random.choice(self.engagements)}/", name="consultant: engagement")  # noqa: S311

    @task(2)
    def log_session(self):
        if not self.engagements:
            return
        pk = random.choice(self.engagements)  # noqa: S311
        with self.client.post(f"/engagements/sessions/new/?engagement={pk}", name="consultant: log session",
                              headers=self.htmx(), catch_response=True, data={
                                  "engagement": pk, "context": "detail",
                                  "start": time.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 45,
                                  "channel": "call", "focus": random.choice(FOCUSES),  # noqa: S311
                                  "initiated_by": "client", "notes": "Monday check-in: **pricing** and next steps.",
                                  "next_steps": "Send the memo"}) as response:
            if "Session logged" not in response.text:
                response.failure("the session was not logged")


class ClientContact(Person):
    weight = 6
    role = "client"

    def signed_in(self):
        home = self.client.get("/portal/", name="client: portal home")
        self.engagements = sorted(set(PORTAL_ENGAGEMENT_LINK.findall(home.text)))
        self.milestones = sorted(set(MILESTONE_LINK.findall(home.text)))

    @task(4)
    def portal_home(self):
        self.client.get("/portal/", name="client: portal home")

    @task(2)
    def engagement(self):
        if self.engagements:
            page = self.client.get(f"/portal/engagements/{random.choice(self.engagements)}/",  # noqa: S311
                                   name="client: engagement")
            self.milestones = sorted(set(self.milestones) | set(MILESTONE_LINK.findall(page.text)))

    @task(2)
    def comment(self):
        if not self.milestones:
            return
        pk = random.choice(self.milestones)  # noqa: S311
        page = self.client.get(f"/portal/milestones/{pk}/", name="client: milestone")
        form_token = FORM_TOKEN.search(page.text)
        if not form_token:
            return
        with self.client.post(f"/portal/milestones/{pk}/comment/", name="client: comment", headers=self.htmx(),
                              catch_response=True, data={"text": "Agreed for Thursday; we will bring the figures.",
                                                         "form_token": form_token.group(1)}) as response:
            if "Agreed for Thursday" not in response.text:
                response.failure("the comment did not appear in the thread")


class Manager(Person):
    weight = 2
    role = "manager"

    @task(4)
    def dashboard(self):
        self.client.get("/dashboard/", name="manager: dashboard")

    @task(1)
    def flags(self):
        self.client.get("/dashboard/flags/", name="manager: flag queue")

    @task(1)
    def trends(self):
        self.client.get("/dashboard/trends/", name="manager: trends")
