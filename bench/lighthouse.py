"""Lighthouse (npm) on the pages people open most, as a phone sees them (Lighthouse's default,
mobile preset): the login page, an engagement page, the portal's home and the manager's dashboard.

Runs Rapport as in production (DEBUG off, collected and compressed static files, gunicorn, and the
HTML compressed as Caddy does in front of it: bench/lighthouse_settings.py) on a throw-away SQLite
database with the demo data, signs each person in through the login form,
and prints the four scores of each page: performance, accessibility, best practices, SEO.

    npm install --prefix bench/node lighthouse@12.8.2     # once
    .venv/bin/python bench/lighthouse.py                   # CHROME_PATH defaults to /usr/bin/chromium

LIGHTHOUSE names another lighthouse executable; --keep writes the JSON reports to bench/results/.
"""

# The subprocesses run fixed commands of this script, and the URLs are the local server it starts.
# ruff: noqa: S603, S310

from __future__ import annotations

import argparse
import base64
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
DEMO_PASSWORD = "rapport-demo"  # noqa: S105  (the demo's published password)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(folder: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}", "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on the loopback: no HTTPS redirect, no secure-only cookies, no HSTS.
        "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0", "DJANGO_HSTS_SECONDS": "0",
        "MFA_REQUIRED_FOR_MANAGERS": "0", "LOG_LEVEL": "WARNING",
        "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),  # a Fernet key
        "DJANGO_SETTINGS_MODULE": "bench.lighthouse_settings",
    })
    env.pop("REDIS_URL", None)
    return env


def _sign_in(base: str, email: str) -> str:
    """The session cookie of ``email``, signed in through the login form as a browser would."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": email, "password": DEMO_PASSWORD})
    request = urllib.request.Request(f"{base}/accounts/login/", data=data.encode(),
                                     headers={"Referer": f"{base}/accounts/login/"})
    opener.open(request).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"Could not sign in as {email}.")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _lighthouse(command: list[str], url: str, cookie: str | None, output: Path) -> dict:
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    args = [*command, url, "--quiet", "--output=json", f"--output-path={output}",
            "--only-categories=" + ",".join(CATEGORIES),
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(args, check=True, env={**os.environ, "CHROME_PATH": chrome}, timeout=300)
    report = json.loads(output.read_text())
    return {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the JSON reports in bench/results/")
    options = parser.parse_args()
    local = ROOT / "bench" / "node" / "node_modules" / ".bin" / "lighthouse"
    executable = os.environ.get("LIGHTHOUSE") or (str(local) if local.exists() else shutil.which("lighthouse"))
    if not executable:
        raise SystemExit("Lighthouse is not installed: npm install --prefix bench/node lighthouse@12.8.2")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _environment(folder)
        manage = [PYTHON, str(ROOT / "manage.py")]
        for step in (["migrate", "--no-input"], ["seed_demo"], ["collectstatic", "--no-input"]):
            subprocess.run([*manage, *step], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "2"], env=env, cwd=ROOT)
        try:
            for _ in range(60):
                try:
                    urllib.request.urlopen(f"{base}/accounts/login/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            lookup = subprocess.run(
                [*manage, "shell", "-c", "from engagements.models import Engagement as E; "
                 "print(E.objects.get(title='Brand positioning').pk)"],
                check=True, env=env, cwd=ROOT, capture_output=True, text=True)
            engagement = lookup.stdout.strip().splitlines()[-1]  # after the shell's auto-import notice
            pages = [("login page", "/accounts/login/", None),
                     ("engagement page", f"/engagements/{engagement}/", "consultant@example.com"),
                     ("portal home", "/portal/", "client@example.com"),
                     ("dashboard", "/dashboard/", "manager@example.com")]
            results = ROOT / "bench" / "results"
            if options.keep:
                results.mkdir(exist_ok=True)
            print(f"{'page':<18}" + "".join(f"{name:>16}" for name in CATEGORIES))
            for name, path, email in pages:
                cookie = _sign_in(base, email) if email else None
                output = (results if options.keep else folder) / f"lighthouse-{name.replace(' ', '-')}.json"
                scores = _lighthouse([executable], base + path, cookie, output)
                print(f"{name:<18}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
