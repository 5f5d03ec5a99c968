"""The check every rendered page goes through (tests/html_checks.py) finds what it promises."""

from tests.html_checks import html_problems


def test_a_duplicate_id_is_reported():
    html = ('<form><input id="id_shared_with_client"></form>'
            '<form><label for="id_shared_with_client">x</label><input id="id_shared_with_client"></form>')
    assert html_problems(html) == ["duplicate id 'id_shared_with_client' (2 elements)"]


def test_unique_ids_and_valid_times_pass():
    html = ('<p id="a"></p><p id="b"></p><time datetime="2026-03-10T09:00:00+0000">x</time>'
            '<time datetime="2026-03-10">y</time><script id="c" type="application/json">{"id": "a"}</script>')
    assert html_problems(html) == []


def test_a_time_with_microseconds_is_reported():
    assert html_problems('<time datetime="2026-12-04T14:36:08.677123+00:00">x</time>') != []
