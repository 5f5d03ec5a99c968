import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_demo_login_reaches_its_home_page(page, live_server, demo, screenshot):
    for email in ["consultant@example.com", "manager@example.com", "client@example.com"]:
        page.goto("/accounts/login/")
        screenshot(page, "login", widths=(1280, 390))
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill("rapport-demo")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"{email} stayed on the login page"
        assert page.get_by_role("heading", level=1).first.is_visible()
        if email == "client@example.com":
            text = page.locator("main").inner_text()
            assert "Northwind Retail" in text
            assert not any(other in text for other in ("Helios", "Atlas", "Brightwell", "Quantum", "Meridian"))
        page.locator("summary").first.click()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/accounts/login/")


def test_a_wrong_password_is_refused_in_the_browser(page, consultant):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(consultant.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("E-mail address").input_value() == consultant.email
