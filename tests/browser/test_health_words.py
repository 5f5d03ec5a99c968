"""Health engine v2 in a real browser: a consultant marks a planned break and sees it; a manager reads a
flag card that says what changed in a sentence, with its key figure and the numbers folded."""

import datetime as dt
import os

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from engagements.models import PlannedBreak
from health import evidence
from health.services import engagement_health_refresh
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.evidence_samples import CADENCE_EVIDENCE, WATCH_ITEM

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_consultant_adds_a_planned_break_and_sees_it(page, login, consultant, engagement):
    today = timezone.localdate()
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    section = page.locator("#planned-breaks")
    expect(section).to_contain_text("No planned break now or ahead.")
    section.get_by_text("Add a planned break").click()
    section.get_by_label("From").fill((today - dt.timedelta(days=2)).isoformat())
    section.get_by_label("To (last day)").fill((today - dt.timedelta(days=5)).isoformat())
    section.get_by_label("Reason").select_option("budget_freeze")
    section.get_by_label("Note").fill("Budget frozen until the board meets")
    section.get_by_role("button", name="Add the break").click()
    # The service refuses; the error sits on the field and the note typed stays.
    expect(page.locator("#id_break-ends_on_error")).to_have_text("A break cannot end before it starts.")
    expect(page.locator("#planned-breaks").get_by_label("Note")).to_have_value("Budget frozen until the board meets")
    assert not PlannedBreak.objects.exists()

    last_day = today + dt.timedelta(days=10)
    page.locator("#planned-breaks").get_by_label("To (last day)").fill(last_day.isoformat())
    page.locator("#planned-breaks").get_by_role("button", name="Add the break").click()
    section = page.locator("#planned-breaks")
    expect(section.locator("[role=status]")).to_have_text("Planned break added.")
    expect(section.locator("[role=status]")).to_be_focused()  # the keyboard focus follows what happened
    item = section.locator(".planned-break")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Budget freeze")
    expect(item).to_contain_text("Budget frozen until the board meets")
    expect(item).to_contain_text(f"Added by {consultant}")
    planned = PlannedBreak.objects.get()
    assert (planned.reason, planned.ends_on, planned.created_by) == ("budget_freeze", last_day, consultant)

    # After a reload, the health card says the engagement is on a break.
    page.reload()
    with translation.override("en"):
        until = f"On a planned break until {date_format(last_day, 'DATE_FORMAT')}."
    expect(page.locator("#health .on-break")).to_contain_text(until)

    # Deleting asks first: "Cancel" keeps it, "OK" deletes it.
    answers = iter([False, True])
    page.on("dialog", lambda dialog: dialog.accept() if next(answers) else dialog.dismiss())
    delete = page.locator("#planned-breaks").get_by_role("button", name="Delete")
    delete.click()
    page.wait_for_timeout(300)
    assert PlannedBreak.objects.count() == 1
    delete.click()
    expect(page.locator("#planned-breaks [role=status]")).to_have_text("Planned break deleted.")
    expect(page.locator("#planned-breaks .planned-break")).to_have_count(0)
    assert not PlannedBreak.objects.exists()


def test_a_manager_reads_the_flag_card_sentence_first(page, login, manager, consultant, screenshot):
    today = timezone.localdate()
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios Energy",
                                             title="Brand positioning", planned_cadence_days=14)
    last_session = (today - dt.timedelta(days=40)).isoformat()
    flag = factories.FlagFactory(engagement=engagement, kind="cadence_drop", severity="high",
                                 evidence={**CADENCE_EVIDENCE, "last_session_on": last_session})
    factories.FlagFactory(engagement=engagement, kind="one_sided", severity="medium", status="acknowledged",
                          evidence={"balance": 0.12, "client_events": 2, "events": 17, "mode": "expert_led"})
    factories.HealthSnapshotFactory(engagement=engagement, date=today, score=48, state="transactional", depth=0.31,
                                    watch=[{**WATCH_ITEM, "since": (today - dt.timedelta(days=9)).isoformat()}])
    engagement_health_refresh(engagement_ids=[engagement.pk])
    factories.PlannedBreakFactory(engagement=engagement, starts_on=today + dt.timedelta(days=20),
                                  ends_on=today + dt.timedelta(days=34), reason="holiday",
                                  note="The client's summer shutdown", created_by=consultant)
    with translation.override("en"):
        summary = evidence.flag_summary(flag.kind, flag.evidence)
        figure, _caption = evidence.key_figure(flag.kind, flag.evidence)
        label, value = evidence.evidence_details(flag.kind, flag.evidence)[0]

    login(page, manager)
    page.goto("/dashboard/flags/")
    card = page.locator(f"#flag-{flag.pk}")
    expect(card.locator(".flag-summary")).to_have_text(summary)
    expect(card.locator(".key-figure")).to_have_text(figure)
    # The numbers are folded until asked for.
    expect(card.locator(".evidence-list")).to_be_hidden()
    card.locator(".flag-details > summary").click()
    expect(card.locator(".evidence-list")).to_be_visible()
    expect(card.locator(".evidence-list")).to_contain_text(label)
    expect(card.locator(".evidence-list")).to_contain_text(value)
    # One primary action; the others are grouped.
    expect(card.get_by_role("button", name="Acknowledge")).to_be_visible()
    expect(card.locator(".flag-more summary", has_text="Snooze")).to_be_hidden()
    card.locator(".flag-more > summary").click()
    expect(card.locator(".flag-more summary", has_text="Snooze")).to_be_visible()
    card.locator(".flag-more > summary").click()
    expect(page.locator(".watch-queue")).to_contain_text("Sofia Reyes became sponsor")
    screenshot(page, "flags-words", widths=(1280, 390))

    page.goto(f"/engagements/{engagement.pk}/")
    expect(page.locator("#watch")).to_contain_text("Sofia Reyes became sponsor")
    expect(page.locator(f"#flag-{flag.pk} .flag-summary")).to_have_text(summary)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # the health card, flags and planned breaks column
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(200)
            # On a phone the side column has no box of its own (its sections join the page's order):
            # take the region from the health card to the planned breaks.
            region = page.evaluate("""() => {
              const boxes = ['#health', '#flags', '#planned-breaks'].map(id => document.querySelector(id))
                .filter(Boolean).map(element => element.getBoundingClientRect());
              const top = Math.min(...boxes.map(b => b.top)), left = Math.min(...boxes.map(b => b.left));
              return {x: left + window.scrollX, y: top + window.scrollY,
                      width: Math.max(...boxes.map(b => b.right)) - left,
                      height: Math.max(...boxes.map(b => b.bottom)) - top};
            }""")
            page.screenshot(path=str(SCREENSHOTS / f"engagement-health-card-{width}.png"), full_page=True, clip=region)
        page.set_viewport_size({"width": 1280, "height": 900})
