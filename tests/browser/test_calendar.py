"""The calendar import in a real browser: upload a calendar file, confirm two meetings (one with its
focus changed), ignore one, and find the sessions on the engagement's timeline."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendars.models import CalendarMeeting
from engagements.models import Session
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _calendar_file(tmp_path, contact_email: str):
    """Three client meetings of the past days and one internal one, as Outlook would export them."""
    def stamp(days_ago, hour):
        moment = timezone.now().replace(hour=hour, minute=0, second=0, microsecond=0) - dt.timedelta(days=days_ago)
        return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    events = [("strategy-workshop", 3, 9, 11, "Pricing strategy workshop"), ("qbr", 2, 14, 15, "QBR Q3"),
              ("lunch", 1, 12, 13, "Lunch with Ada"), ("internal", 1, 8, 9, "Team prep")]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN"]
    for uid, days_ago, start, end, title in events:
        attendee = "colleague@firm.example" if uid == "internal" else contact_email
        lines += ["BEGIN:VEVENT", f"UID:{uid}@outlook.example", f"SUMMARY:{title}",
                  f"DTSTART:{stamp(days_ago, start)}", f"DTEND:{stamp(days_ago, end)}", "DTSTAMP:20260101T000000Z",
                  f"ATTENDEE;CN=Ada Client;PARTSTAT=ACCEPTED:mailto:{attendee}", "END:VEVENT"]
    path = tmp_path / "outlook-export.ics"
    path.write_text("\r\n".join([*lines, "END:VCALENDAR", ""]))
    return path


def test_upload_confirm_two_ignore_one_and_see_the_timeline(page, login, consultant, engagement, tmp_path,
                                                            screenshot):
    factories.ContactFactory(client=engagement.client, name="Ada Client", email="ada@acme.example")
    login(page, consultant)
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.get_by_role("heading", name="Calendar import")).to_be_visible()
    page.get_by_label("Calendar file (.ics)").set_input_files(str(_calendar_file(tmp_path, "ada@acme.example")))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("3 client meetings found in 4 events")

    inbox = page.locator("#inbox")
    cards = inbox.locator(".meeting-card")
    expect(cards).to_have_count(3)
    workshop = cards.filter(has_text="Pricing strategy workshop")
    qbr = cards.filter(has_text="QBR Q3")
    lunch = cards.filter(has_text="Lunch with Ada")
    # The focus is pre-filled from the title: strategy for the workshop, KPI review for the QBR,
    # nothing for a lunch (the consultant would choose).
    expect(lunch.get_by_label("Focus")).to_have_value("")
    expect(workshop.get_by_label("Focus")).to_have_value("strategy")
    expect(qbr.get_by_label("Focus")).to_have_value("kpi_review")
    expect(workshop).to_contain_text("Ada Client")
    screenshot(page, "calendar-inbox", widths=(1280, 390))

    # The QBR turned into a real conversation: the client asked for our view on the pricing.
    qbr.get_by_label("Focus").select_option("advisory")
    qbr.get_by_label("Did the client ask for our advice in it?").check()
    workshop.get_by_role("checkbox").first.check()
    qbr.get_by_role("checkbox").first.check()
    inbox.get_by_role("button", name="Confirm the selected meetings").click()
    expect(page.get_by_role("status")).to_contain_text("2 meetings confirmed as sessions.")

    page.locator("#inbox .meeting-card", has_text="Lunch with Ada").get_by_role("button", name="Ignore").click()
    expect(page.get_by_role("status")).to_contain_text("Meeting ignored.")
    expect(page.locator("#inbox")).to_contain_text("No meeting waiting to be confirmed.")
    page.locator("#ignored > summary").click()
    expect(page.locator("#ignored")).to_contain_text("Lunch with Ada")
    screenshot(page, "calendar-after")

    page.get_by_role("link", name="My engagements").click()
    page.get_by_role("link", name=engagement.title).click()
    timeline = page.locator("#timeline-items")
    expect(timeline.locator(".session-item")).to_have_count(2)
    first, second = timeline.locator(".session-item").nth(0), timeline.locator(".session-item").nth(1)
    expect(first).to_contain_text("Advisory")
    expect(first).to_contain_text("Advice asked")
    expect(first).to_contain_text("Ada Client")
    expect(second).to_contain_text("Strategy")
    expect(second).to_contain_text("120 min")
    screenshot(page, "calendar-timeline")

    assert sorted(Session.objects.values_list("focus", flat=True)) == ["advisory", "strategy"]
    assert CalendarMeeting.objects.get(uid="lunch@outlook.example").state == CalendarMeeting.State.IGNORED
