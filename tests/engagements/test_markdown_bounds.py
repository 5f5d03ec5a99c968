"""Stored Markdown cannot slow down or break the pages it is on (security audit F4)."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from engagements.models import Milestone, Session
from engagements.services import milestone_create
from tests import factories
from workspace import markdown
from workspace.markdown import render_markdown

pytestmark = pytest.mark.django_db

MAX_RENDERED_CHARS = 20_000  # the longest Markdown field, Session.notes

# The audit's payload: a 500-deep nested list, about 250 KB.
NESTED_500 = "".join("  " * depth + "- item\n" for depth in range(500))
# Hostile Markdown that fits the longest field: each made the old renderer crash or take seconds.
HOSTILE = {
    "nested list": NESTED_500[:MAX_RENDERED_CHARS],
    "list markers": "- " * (MAX_RENDERED_CHARS // 2),
    "quotes in lists": "> - " * (MAX_RENDERED_CHARS // 4),
    "unclosed brackets": "[" * MAX_RENDERED_CHARS,
    "unclosed images": "![" * (MAX_RENDERED_CHARS // 2),
    "unclosed link targets": "[a](" * (MAX_RENDERED_CHARS // 4),
    "nested brackets": "[" * 1000 + "a" * 10_000 + "]" * 1000,
    "definition lists": "a\n: b\n" * (MAX_RENDERED_CHARS // 6),
}


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _deep(levels, call):
    """Call from a stack already ``levels`` frames deep, as a template filter is."""
    return call() if levels == 0 else _deep(levels - 1, call)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_markdown_renders_quickly_without_error(name):
    render_markdown.cache_clear()
    html, seconds = _timed(lambda: _deep(400, lambda: render_markdown(HOSTILE[name])))
    assert seconds < 1.5
    assert html.count("<ul>") + html.count("<blockquote>") <= 30


def test_the_audits_nested_list_is_shown_as_plain_text():
    html = render_markdown(NESTED_500)
    assert "<ul>" not in html and "item" in html


def test_ordinary_markdown_is_unchanged_by_the_bounds():
    text = "Intro (see [the plan](https://example.com/plan)) :(\n\n- one\n    - two\n        - three\n\n`a[0`"
    html = render_markdown(text)
    assert html.count("<ul>") == 3 and 'href="https://example.com/plan"' in html
    assert "<code>a[0</code>" in html and ":(" in html


def test_a_rendering_failure_shows_the_text_escaped_and_is_logged(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    render_markdown.cache_clear()
    monkeypatch.setattr(markdown.markdown_lib, "markdown", broken)
    html = render_markdown("**Hello** <b>world</b>\n\nSecond paragraph")
    render_markdown.cache_clear()
    assert html == "<p>**Hello** &lt;b&gt;world&lt;/b&gt;</p>\n\n<p>Second paragraph</p>"
    assert "Markdown rendering failed" in caplog.text


def test_every_path_refuses_a_description_longer_than_the_model_allows(consultant, engagement):
    with pytest.raises(ValidationError) as error:
        milestone_create(engagement=engagement, created_by=consultant, title="Long", description="x" * 5001)
    assert "description" in error.value.message_dict


def test_pages_with_hostile_markdown_already_stored_answer_quickly(client, consultant, engagement, client_user):
    """Rows stored before the limits (inserted directly): the engagement and portal pages still answer."""
    milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True)
    Milestone.objects.filter(pk=milestone.pk).update(description=NESTED_500)
    for text in HOSTILE.values():
        session = factories.SessionFactory(engagement=engagement, shared_with_client=True)
        Session.objects.filter(pk=session.pk).update(notes=text)
        factories.MilestoneCommentFactory(milestone=milestone, text=text[:5000])
    render_markdown.cache_clear()
    client.force_login(consultant)
    response, seconds = _timed(lambda: client.get(reverse("engagements:detail", args=[engagement.pk])))
    assert response.status_code == 200 and seconds < 10
    client.force_login(client_user)
    response, seconds = _timed(lambda: client.get(reverse("portal:milestone", args=[milestone.pk])))
    assert response.status_code == 200 and seconds < 5
    assert "item" in response.content.decode()


def test_the_preview_refuses_text_longer_than_any_field_quickly(client, consultant):
    client.force_login(consultant)
    response, seconds = _timed(lambda: client.post(reverse("engagements:markdown_preview"),
                                                   {"notes": "[" * 2_250_000}))
    assert response.status_code == 200 and seconds < 2
    assert "Too long to preview: 2,250,000 characters, at most 20,000." in response.content.decode()
