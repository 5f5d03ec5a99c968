"""The API docs page (Swagger UI) works under the production Content-Security-Policy (audit, issue 15)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_lists_the_operations_under_the_csp(page, live_server, login, consultant):
    login(page, consultant)
    response = page.goto("/api/v1/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    # Swagger UI renders one block per operation once its script has run and fetched the schema.
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 30
    assert page.get_by_text("/api/v1/sessions/{id}/").first.is_visible()
