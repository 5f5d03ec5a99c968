"""The flag card speaks: the sentence of what changed first, in the reader's language, the one key figure
big, the other numbers folded in a <details>; one primary action, the others grouped; closed cards
without actions. The same card serves the engagement page and the manager's flag queue."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from health import evidence
from tests import factories
from tests.evidence_samples import CADENCE_EVIDENCE

pytestmark = pytest.mark.django_db


def words(flag, language="en"):
    with translation.override(language):
        return (evidence.flag_summary(flag.kind, flag.evidence), evidence.key_figure(flag.kind, flag.evidence),
                evidence.evidence_details(flag.kind, flag.evidence))


def card_html(content, flag):
    start = content.rindex("<article", 0, content.index(f'id="flag-{flag.pk}"'))
    return content[start:content.index("</article>", start)]


@pytest.fixture
def flag(engagement):
    return factories.FlagFactory(engagement=engagement, kind="cadence_drop", severity="high",
                                 evidence=CADENCE_EVIDENCE)


def test_the_sentence_comes_first_then_the_key_figure_then_the_folded_numbers(client, consultant, flag):
    summary, (figure, caption), details = words(flag)
    assert summary and details
    client.force_login(consultant)
    content = client.get(reverse("engagements:detail", args=[flag.engagement_id])).content.decode()
    assert "{#" not in content and "{%" not in content  # no template comment leaks onto the page
    card = card_html(content, flag)
    assert f'<p class="flag-summary">{escape(summary)}</p>' in card
    assert f'<span class="key-figure">{escape(figure)}</span>' in card and escape(caption) in card
    folded = card[card.index('<details class="flag-details">'):]
    for label, value in details:
        assert f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" in folded
    assert (card.index('class="flag-summary"') < card.index('class="key-figure"') < card.index('class="flag-details"')
            < card.index('class="flag-history"'))


def test_the_card_speaks_the_readers_language(client, consultant, flag):
    consultant.language = "fr"
    consultant.save()
    summary, (figure, caption), _details = words(flag, "fr")
    assert summary != words(flag, "en")[0]  # really translated
    client.force_login(consultant)
    card = card_html(client.get(reverse("engagements:detail", args=[flag.engagement_id])).content.decode(), flag)
    assert escape(summary) in card and escape(figure) in card and escape(caption) in card
    assert "Les chiffres" in card and "Prendre en compte" in card


def test_the_flag_queue_shows_the_same_card(client, manager, flag):
    summary, (figure, _caption), _details = words(flag)
    client.force_login(manager)
    card = card_html(client.get(reverse("dashboard:flags")).content.decode(), flag)
    assert escape(summary) in card and escape(figure) in card


def _primary_and_more(card):
    actions = card[card.index('<div class="flag-actions">'):]
    more_at = actions.find('<details class="flag-more"')
    return (actions[:more_at] if more_at >= 0 else actions), (actions[more_at:] if more_at >= 0 else "")


def test_an_open_flag_offers_acknowledge_first_and_groups_the_manager_actions(client, manager, flag):
    client.force_login(manager)
    card = card_html(client.get(reverse("dashboard:flags")).content.decode(), flag)
    primary, more = _primary_and_more(card)
    assert "Acknowledge" in primary and "Resolve" not in primary
    assert "More actions" in more
    for action in ("Add a note", "Assign", "Snooze", "Resolve", "Dismiss"):
        assert f"<summary>{action}</summary>" in more
    assert "flag-primary" not in more  # one primary action only; the grouped ones look secondary


def test_an_acknowledged_flag_offers_resolve_first_to_a_manager(client, manager, flag):
    flag.status = "acknowledged"
    flag.save()
    client.force_login(manager)
    card = card_html(client.get(reverse("dashboard:flags")).content.decode(), flag)
    primary, more = _primary_and_more(card)
    assert '<details class="flag-primary">' in primary and "<summary>Resolve</summary>" in primary
    assert "flag-primary" not in more
    assert "/acknowledge/" not in card
    assert "<summary>Resolve</summary>" not in more and "<summary>Dismiss</summary>" in more


def test_a_consultant_acknowledges_first_and_may_add_a_note(client, consultant, flag):
    client.force_login(consultant)
    url = reverse("engagements:detail", args=[flag.engagement_id])
    primary, more = _primary_and_more(card_html(client.get(url).content.decode(), flag))
    assert "Acknowledge" in primary and "<summary>Add a note</summary>" in more
    assert "Snooze" not in more and "Resolve" not in more
    flag.status = "acknowledged"
    flag.save()
    primary, more = _primary_and_more(card_html(client.get(url).content.decode(), flag))
    assert "<summary>Add a note</summary>" in primary and more == ""


def test_an_action_that_failed_reopens_its_group(client, manager, flag):
    client.force_login(manager)
    response = client.post(reverse("engagements:flag_snooze", args=[flag.pk]),
                           {"snoozed_until": "", "snooze_reason": ""}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert '<details class="flag-more" open>' in content
    assert "Choose a date after today." in content


def test_a_resolved_card_keeps_its_words_and_plan_without_actions(client, manager, flag):
    from health.services import flag_resolve

    flag_resolve(flag=flag, user=manager, action_plan="repair", note="Fortnightly calls booked until June")
    client.force_login(manager)
    card = card_html(client.get(reverse("dashboard:flags"), {"status": "closed"}).content.decode(), flag)
    assert "flag-resolved" in card and "flag-status-resolved" in card
    assert escape(words(flag)[0]) in card and "Fortnightly calls booked until June" in card
    assert "flag-actions" not in card


def test_a_flag_without_a_key_figure_shows_no_empty_box(client, consultant, engagement):
    flag = factories.FlagFactory(engagement=engagement, kind="sponsor_change", evidence={"changes": [
        {"on": "2026-02-12", "previous_sponsor": {"name": "Ann Old"}, "new_sponsor": {"name": "Sofia Reyes"}}]})
    assert words(flag)[1] is None
    client.force_login(consultant)
    card = card_html(client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode(), flag)
    assert "key-figure" not in card and "Sofia Reyes" in card
