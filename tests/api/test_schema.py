"""The OpenAPI schema validates without warnings, and the docs page runs on local assets."""

from __future__ import annotations

import re

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns any drf-spectacular warning into an error (SystemExit), failing the test.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/sessions/{id}/" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_schema_marks_staff_only_fields_optional_for_clients(client):
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()
    session = schema["components"]["schemas"]["Session"]
    assert "notes" not in session.get("required", [])
    assert "Firm staff only" in session["properties"]["notes"]["description"]
    assert set(schema["paths"]["/api/v1/sessions/{id}/"]["patch"]["responses"]) >= {"200", "400", "404", "409"}


def test_docs_page_loads_swagger_ui_from_our_static_files(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


def test_docs_page_has_no_inline_script_and_the_csp_allows_what_it_loads(client):
    """Swagger UI's start-up script is a file of our origin: the CSP (script-src 'self') lets it run."""
    response = client.get(reverse("api:docs"))
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts), scripts
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'"
    sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _body in scripts]
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    start_up = client.get(next(source for source in sources if "script=" in source).replace("&amp;", "&"))
    assert start_up.status_code == 200 and start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()


def test_patch_bodies_of_versioned_objects_require_the_version(client):
    """The API refuses a PATCH of a session or milestone without `version` (400): the schema says so."""
    schema = yaml.safe_load(client.get(reverse("api:schema")).content)
    components = schema["components"]["schemas"]
    for name in ("PatchedSessionRequest", "PatchedMilestoneRequest"):
        assert components[name]["required"] == ["version"], name
    assert "required" not in components["PatchedKPIRequest"]
    session_patch = schema["paths"]["/api/v1/sessions/{id}/"]["patch"]["requestBody"]
    assert session_patch["required"] is True
