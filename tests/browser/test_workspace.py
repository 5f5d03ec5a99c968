"""The consultant workspace in a real browser: each test walks one user flow end to end."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from engagements import services
from engagements.models import Engagement, Milestone, Session
from feedback.models import PulseRequest
from health.models import Flag
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = timezone.localdate()


def test_log_a_session_and_see_it_on_the_timeline(page, login, consultant, engagement):
    factories.ContactFactory(client=engagement.client, name="Ada Client", title="CFO")
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    page.evaluate("window.__notReloaded = true")
    page.locator("#log-session > summary").click()
    form = page.locator("#log-session-form")
    form.get_by_label("Duration (minutes)").fill("")
    form.get_by_role("radio", name="Advisory").check()
    form.get_by_role("checkbox", name=re.compile("Ada Client")).check()
    form.get_by_label("Notes").fill("Pricing options for **2027**")
    form.get_by_label("Notes").press("Control+Enter")  # the keyboard shortcut saves
    # Bad input: the error sits on the field and what was typed stays.
    expect(page.locator("#log-session-form .field-invalid")).to_contain_text("This field is required")
    expect(page.locator("#log-session-form").get_by_label("Notes")).to_have_value("Pricing options for **2027**")
    page.locator("#log-session-form").get_by_label("Duration (minutes)").fill("50")
    page.locator("#log-session-form").get_by_role("button", name="Log session").click()
    expect(page.locator("#log-session-form")).to_contain_text("Session logged")
    first = page.locator("#timeline-items .session-item").first
    expect(first).to_contain_text("Advisory")
    expect(first).to_contain_text("Ada Client")
    expect(first.locator("strong", has_text="2027")).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True  # updated in place, no full reload
    assert Session.objects.get().duration_minutes == 50


def test_leaving_the_page_with_typed_notes_asks_first_and_a_saved_form_does_not(page, login, consultant, engagement):
    # A timeline with a session already: logging one more must not log htmx:oobErrorNoTarget (the page
    # fixture fails on any console error).
    factories.SessionFactory(engagement=engagement)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))  # dismiss: stay on the page
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    page.locator("#log-session > summary").click()
    page.locator("#log-session-form").get_by_label("Notes").press_sequentially("Pricing options")
    page.get_by_role("link", name="My engagements").first.click()
    expect(page.locator("#log-session-form").get_by_label("Notes")).to_have_value("Pricing options")
    assert dialogs == ["beforeunload"] and "/engagements/" in page.url
    # Logged (through htmx): nothing is lost any more, the page is left without a question.
    page.locator("#log-session-form").get_by_role("radio", name="Advisory").check()
    page.locator("#log-session-form").get_by_role("button", name="Log session").click()
    expect(page.locator("#log-session-form")).to_contain_text("Session logged")
    page.get_by_role("link", name="My engagements").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My engagements")
    assert dialogs == ["beforeunload"]


def test_an_xss_attempt_in_notes_is_rendered_harmless(page, login, consultant, engagement):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, consultant)
    page.goto(f"/engagements/sessions/new/?engagement={engagement.pk}")
    attack = ('<img src=x onerror="window.__xss=1;alert(1)"> <script>window.__xss=2</script> '
              '[win](javascript:window.__xss=3) <a href="#" onclick="window.__xss=4">click</a>')
    page.get_by_label("Notes").fill(attack)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".markdown-preview")).to_contain_text("win")
    page.get_by_role("button", name="Log session").click()
    item = page.locator("#timeline-items .session-item").first
    expect(item).to_contain_text("click")
    page.goto(f"/engagements/{engagement.pk}/")
    notes = page.locator("#timeline-items .session-item .markdown").first
    expect(notes).to_be_visible()
    notes.get_by_text("click").click()
    assert notes.locator("script, img, [onerror], [onclick]").count() == 0
    assert all(not (href or "").startswith("javascript") for href in
               notes.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"))
    assert page.evaluate("window.__xss") is None and dialogs == []


def test_create_a_milestone_and_move_it_to_done(page, login, consultant, engagement):
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    page.locator(".add-milestone > summary").click()
    board = page.locator("#milestones")
    board.get_by_label("Title").fill("Pricing workshop")
    board.get_by_role("radio", name="Reflection").check()
    # The label "Shared with the client" is the milestone's own box: the session form's stays as it was.
    session_share = page.locator("#log-session-form").get_by_label("Share the summary with the client")
    shared_before = session_share.is_checked()
    board.get_by_text("Shared with the client", exact=True).click()
    board.get_by_text("Shared with the client", exact=True).click()
    assert session_share.is_checked() == shared_before
    board.get_by_role("button", name="Add milestone").click()
    # A new milestone is proposed until agreed with the client; the board confirms and highlights it.
    card = page.locator(".status-col-proposed .ws-milestone.just-logged", has_text="Pricing workshop")
    expect(card).to_be_visible()
    expect(board.get_by_role("status")).to_contain_text("Milestone added.")
    # The status change is a menu on the card's one line of actions: open it, pick the column.
    card.locator(".status-menu > summary").click()
    card.get_by_role("button", name="Move “Pricing workshop” to Done").click()
    done = page.locator(".phase-reflection .status-col-done .ws-milestone", has_text="Pricing workshop")
    expect(done).to_be_visible()
    milestone = Milestone.objects.get()
    assert milestone.status == "done" and milestone.completed_at is not None and milestone.phase == "reflection"
    card = page.locator(".status-col-done .ws-milestone", has_text="Pricing workshop")
    card.locator(".ws-comments > summary").click()
    card.get_by_placeholder("Add a comment…").fill("Done with the *client's* team")
    card.get_by_role("button", name="Comment").click()
    expect(page.locator(f"#milestone-{milestone.pk} .ws-comment-list em")).to_have_text("client's")


# Each card: the distinct tops of its row of actions (one line: one top), and the board's sideways overflow.
CARD_ROWS = """() => [...document.querySelectorAll('.ws-milestone')].map(card => [card.id, new Set(
  [...card.querySelector('.ws-milestone-actions').children].map(c => Math.round(c.getBoundingClientRect().top))
  ).size])"""
BOARD_OVERFLOW = """() => Math.max(...[...document.querySelectorAll('.ws-board-columns')]
  .map(board => board.scrollWidth - board.clientWidth))"""


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("statuses", [("agreed", "in_progress", "done"), ("proposed", "agreed", "in_progress", "done"),
                                      ("proposed", "agreed", "in_progress", "blocked", "done")])
def test_every_card_keeps_one_line_of_actions_and_the_board_never_scrolls_sideways(
        page, login, consultant, engagement, language, statuses):
    for status in statuses:
        factories.MilestoneFactory(engagement=engagement, status=status, title=f"Roadmap {status}",
                                   completed_at=timezone.now() if status == "done" else None)
    User.objects.filter(pk=consultant.pk).update(language=language)
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    # 1280: the board shares the width with the side column; 1024: its narrowest; 800: one column, beside nothing.
    for width in (1280, 1024, 800, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        assert page.evaluate(BOARD_OVERFLOW) <= 0, width
        assert [card for card, lines in page.evaluate(CARD_ROWS) if lines != 1] == [], width
        if width > 767 and "proposed" not in statuses:  # an empty column is as tall as its heading, no more
            assert page.locator(".phase-action .status-col-proposed").bounding_box()["height"] < 80


def test_the_move_menu_moves_a_card_up_in_its_column(page, login, consultant, engagement):
    for title in ("Discovery", "Pricing workshop"):
        factories.MilestoneFactory(engagement=engagement, status="agreed", title=title)
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    column = page.locator(".phase-action .status-col-agreed")
    expect(column.locator(".ws-milestone-title")).to_have_text(["Discovery", "Pricing workshop"])
    card = column.locator(".ws-milestone", has_text="Pricing workshop")
    card.locator(".status-menu > summary").click()
    card.get_by_role("button", name="Move up — Pricing workshop").click()
    expect(column.locator(".ws-milestone-title")).to_have_text(["Pricing workshop", "Discovery"])


def test_chart_js_loads_only_when_a_chart_nears_the_screen(page, login, consultant, engagement):
    kpi = factories.KPIFactory(engagement=engagement, name="Cost to serve")
    for days in (70, 40, 10):  # recent values (the factory's own dates depend on how many it made before)
        factories.KPIMeasurementFactory(kpi=kpi, date=TODAY - dt.timedelta(days=days))
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=30), score=70)
    factories.HealthSnapshotFactory(engagement=engagement, score=72)
    page.set_viewport_size({"width": 390, "height": 700})
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    expect(page.locator("#health .score-number")).to_be_visible()
    sparkline = page.locator("canvas[data-chart='kpi']")
    page.wait_for_timeout(300)
    assert sparkline.get_attribute("data-drawn") is None  # far below: not drawn yet
    sparkline.scroll_into_view_if_needed()
    expect(sparkline).to_have_attribute("data-drawn", "1")
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.locator("script[src*='/vendor/chart-']").count() == 1  # loaded once, for every chart


def test_on_a_phone_the_health_card_and_flags_come_before_everything_else(page, login, consultant, engagement):
    factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=30), score=70)
    factories.HealthSnapshotFactory(engagement=engagement)
    factories.SessionFactory(engagement=engagement)
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    # The chart drawn in the wide side column, then the screen narrows (a phone turned, a window resized).
    page.locator("#health-chart").scroll_into_view_if_needed()
    expect(page.locator("#health-chart")).to_have_attribute("data-drawn", "1")
    page.set_viewport_size({"width": 390, "height": 800})
    page.wait_for_timeout(150)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tops = page.evaluate("""ids => ids.map(id => document.getElementById(id).getBoundingClientRect().top)""",
                         ["health", "flags", "log-session", "timeline", "milestones", "planned-breaks", "kpis"])
    assert tops == sorted(tops), tops


def test_read_the_health_card_and_acknowledge_a_flag(page, login, consultant, engagement):
    components = {"depth": {"value": 0.35, "weight": 0.3, "share": 0.6, "points": 21.0,
                            "evidence": {"consultative_minutes": 210, "minutes": 600}}}
    for months in range(6, 0, -1):
        factories.HealthSnapshotFactory(engagement=engagement, date=TODAY - dt.timedelta(days=30 * months),
                                        score=80 - months, depth=0.6)
    factories.HealthSnapshotFactory(engagement=engagement, score=58, state="transactional", depth=0.35,
                                    components=components)
    factories.FlagFactory(engagement=engagement, kind="drift_to_transactional", severity="high",
                          evidence={"depth_window": 0.35, "depth_baseline": 0.7, "sessions_window": 9})
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    card = page.locator("#health")
    expect(card.locator(".score-number")).to_have_text("58")
    expect(card).to_contain_text("Transactional")
    expect(card).to_contain_text("Depth: consultative share of session time")
    expect(card).to_contain_text("Consultative minutes 210")
    page.locator("#health-chart").scroll_into_view_if_needed()  # charts are drawn as they near the screen
    expect(page.locator("#health-chart")).to_have_attribute("data-drawn", "1")
    flag = page.locator(".flag-card")
    expect(flag).to_contain_text("Drift to transactional")
    # What changed, in a sentence; the key figure big; the numbers folded until asked for.
    expect(flag.locator(".flag-summary")).to_contain_text("fell to 35% over the last 90 days, from 70% before")
    expect(flag.locator(".key-figure")).to_have_text("35%")
    expect(flag.locator(".evidence-list")).to_be_hidden()
    flag.locator(".flag-details > summary").click()
    expect(flag.locator(".evidence-list")).to_contain_text("70%")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".flag-card .flag-status")).to_have_text("Acknowledged")
    page.locator(".flag-card summary", has_text="Add a note").click()
    page.locator(".flag-card").get_by_label("Note").fill("Strategy lunch with the new CMO booked")
    page.locator(".flag-card").get_by_role("button", name="Add note").click()
    page.locator(".flag-card summary", has_text="History").click()
    expect(page.locator(".flag-history")).to_contain_text("Strategy lunch with the new CMO booked")


def test_close_an_engagement_from_a_flag_resolved_with_end(page, login, manager, engagement):
    sponsor = factories.ContactFactory(client=engagement.client, name="Sam Sponsor", is_sponsor=True,
                                       sponsor_since=TODAY)
    flag = factories.FlagFactory(engagement=engagement)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, manager)
    page.goto(f"/engagements/{engagement.pk}/")
    card = page.locator(f"#flag-{flag.pk}")
    card.locator(".flag-more > summary").click()  # an open flag's first action is "Acknowledge"; the rest are grouped
    card.locator("summary", has_text="Resolve").click()
    card.get_by_role("radio", name=re.compile("End the engagement well")).check()
    card.get_by_label("What will be done, by when").fill("Hand over to the in-house team by July")
    card.get_by_role("button", name="Resolve").click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/close/")
    page.get_by_label("Why does the engagement end?").select_option("relationship")
    page.get_by_role("button", name="Close the engagement").click()
    expect(page.locator(".field-invalid")).to_contain_text("This field is required")  # the retrospective
    page.get_by_label("Handover notes").fill("Playbooks in the shared drive")
    page.get_by_label("Retrospective").fill("We let KPI reviews replace strategy talks.")
    expect(page.get_by_role("checkbox", name=re.compile("Sam Sponsor"))).to_be_checked()
    page.get_by_role("button", name="Close the engagement").click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/")
    expect(page.locator(".closure-record")).to_contain_text("We let KPI reviews replace strategy talks.")
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CLOSED
    assert Flag.objects.get().action_plan == "end"
    assert list(PulseRequest.objects.values_list("contact", flat=True)) == [sponsor.pk]


def test_an_edit_conflict_on_a_milestone_loses_neither_change(page, login, consultant, engagement):
    milestone = factories.MilestoneFactory(engagement=engagement, title="Roadmap")
    login(page, consultant)
    page.goto(f"/engagements/milestones/{milestone.pk}/edit/")
    page.get_by_label("Title").fill("Roadmap, my version")
    # Meanwhile a colleague saves the same milestone.
    services.milestone_update(milestone=Milestone.objects.get(pk=milestone.pk), title="Roadmap, their version",
                              status="in_progress")
    page.get_by_role("button", name="Save").click()
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("Someone else changed this milestone")
    expect(conflict).to_contain_text("Roadmap, their version")
    expect(conflict).to_contain_text("Roadmap, my version")
    expect(page.get_by_label("Title")).to_have_value("Roadmap, my version")
    milestone.refresh_from_db()
    assert milestone.title == "Roadmap, their version"
    page.get_by_role("button", name="Save my version").click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/**")
    milestone.refresh_from_db()
    assert milestone.title == "Roadmap, my version" and milestone.status == "agreed"


def test_edit_a_session_from_the_timeline_and_through_a_conflict(page, login, consultant, engagement, screenshot):
    engagement.title = "Pricing strategy"
    engagement.save()
    ada = factories.ContactFactory(client=engagement.client, name="Ada Client", title="CFO")
    factories.ContactFactory(client=engagement.client, name="Sam Sponsor", title="CEO", is_sponsor=True,
                            sponsor_since=TODAY)
    session = factories.SessionFactory(
        engagement=engagement, logged_by=consultant, focus=Session.Focus.ADVISORY, duration_minutes=90,
        client_attendees=[ada], advice_requested=True, next_steps="Send the pricing memo by Friday",
        notes="Pricing options for **2026**:\n\n- keep the list price\n- a volume discount for the franchise stores")
    login(page, consultant)
    page.goto(f"/engagements/{engagement.pk}/")
    page.locator(f"#session-{session.pk}").get_by_role("link", name=re.compile("Edit session of")).click()
    page.wait_for_url(f"**/engagements/sessions/{session.pk}/edit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit session")
    expect(page.get_by_role("checkbox", name=re.compile("Ada Client"))).to_be_checked()
    page.get_by_label("Notes").fill("Pricing options for **2027**:\n\n- keep the list price\n- a volume discount")
    screenshot(page, "session-edit", widths=(1280, 390))
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/**")
    expect(page.locator(".messages")).to_contain_text("Session saved.")
    item = page.locator(f"#session-{session.pk}")
    expect(item.locator("strong", has_text="2027")).to_be_visible()
    expect(item).not_to_contain_text("franchise")

    # Again, but a colleague saves the session while the form is open.
    item.get_by_role("link", name=re.compile("Edit session of")).click()
    page.wait_for_url(f"**/engagements/sessions/{session.pk}/edit/")
    page.get_by_label("Notes").fill("Pricing options for **2028**")
    services.session_update(session=Session.objects.get(pk=session.pk), notes="Their notes", duration_minutes=60)
    page.get_by_role("button", name="Save", exact=True).click()
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("Someone else changed this session")
    expect(conflict.locator("tr.differs")).to_have_count(2)  # notes and duration
    expect(conflict).to_contain_text("Their notes")
    expect(page.get_by_label("Notes")).to_have_value("Pricing options for **2028**")
    screenshot(page, "session-edit-conflict")
    assert Session.objects.get(pk=session.pk).notes == "Their notes"
    page.get_by_role("button", name="Save my version").click()
    page.wait_for_url(f"**/engagements/{engagement.pk}/**")
    expect(page.locator(f"#session-{session.pk}").locator("strong", has_text="2028")).to_be_visible()
    stored = Session.objects.get(pk=session.pk)
    assert (stored.notes, stored.duration_minutes) == ("Pricing options for **2028**", 90)


def test_demo_pages_at_desktop_and_phone_widths(page, live_server, demo, login, screenshot):
    consultant = User.objects.get(email="consultant@example.com")
    login(page, consultant, "rapport-demo")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My engagements")
    assert page.locator(".engagement-table tbody tr").count() >= 3
    screenshot(page, "home", widths=(1280, 390))
    page.get_by_role("link", name=re.compile("Brand positioning")).click()
    expect(page.locator("#health .score-number")).to_be_visible()
    page.locator("#health-chart").scroll_into_view_if_needed()  # charts are drawn as they near the screen
    expect(page.locator("#health-chart")).to_have_attribute("data-drawn", "1")
    screenshot(page, "engagement", widths=(1280, 390))
    page.locator("a.nav-cta").click()  # the "Log a session" button in the navigation
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a session")
    screenshot(page, "log-session", widths=(1280, 390))
