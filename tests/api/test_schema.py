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
