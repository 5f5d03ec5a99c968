from workspace.markdown import render_markdown


def test_markdown_is_rendered():
    assert "<strong>bold</strong>" in render_markdown("**bold**")


def test_script_tags_and_event_handlers_are_removed():
    html = render_markdown('<script>alert(1)</script><img src=x onerror="alert(2)"> **ok**')
    assert "<script" not in html and "onerror" not in html and "<img" not in html
    assert "<strong>ok</strong>" in html


def test_javascript_links_are_neutralised_and_real_links_are_safe():
    html = render_markdown("[click](javascript:alert(1)) and [site](https://example.com)")
    assert "javascript:" not in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
