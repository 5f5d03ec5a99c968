"""Markdown from users (session notes, milestone descriptions, comments) rendered safely.

Safe means two things. What comes out holds only harmless tags (nh3, below). And what goes in
cannot make rendering slow or crash the page: Python-Markdown recurses once per nesting level
(500 nested list items overflow the stack) and scans to the end of the paragraph for each
unclosed ``[`` or ``(`` (20,000 of them took minutes). So, before rendering:

- text longer than ``MAX_RENDERED_CHARS`` (the longest Markdown field), or with more than
  ``MAX_MARKUP_CHARS`` characters that start inline markup (each costs the parser a pass: 20,000
  backslash escapes took seconds), is shown as plain text;
- each line's indentation is capped and it keeps at most ``MAX_LINE_MARKERS`` quote or list
  markers, which bounds the nesting of lists and quotes;
- brackets and parentheses nested deeper than ``MAX_BRACKET_DEPTH``, or never closed, are
  escaped: they show as typed, and the parser has nothing to search for.

And if rendering fails all the same, the text is shown escaped, as plain text, and the failure
is logged: a note never breaks the page it is on.
"""

from __future__ import annotations

import functools
import logging
import re

import markdown as markdown_lib
import nh3
from django.utils.html import escape, linebreaks

logger = logging.getLogger(__name__)

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "h5",
                "hr", "table", "thead", "tbody", "tr", "th", "td", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# Only the extensions whose output survives the tags above ("extra" also brought abbreviations,
# definition lists, footnotes and attribute lists, all stripped by nh3, and the first two were
# slow or recursive on hostile input).
EXTENSIONS = ["fenced_code", "tables", "sane_lists"]

MAX_RENDERED_CHARS = 20_000  # Session.notes, the longest Markdown field
MAX_INDENT = 24  # spaces: six levels of four-space list nesting
MAX_LINE_MARKERS = 6  # "> - > - …" at the start of a line
MAX_BRACKET_DEPTH = 8
MAX_MARKUP_CHARS = 2_000  # a long note with links, bold and lists uses a few hundred
_MARKUP = re.compile(r"[\\`*_\[\]()<>&!~]")

_MARKER = re.compile(r"[ ]*(?:>|[-*+](?=[ ]|$)|\d{1,9}[.)](?=[ ]|$))")


def _bound_line(line: str) -> str:
    line = line.expandtabs(4)
    content = line.lstrip(" ")
    indent = min(len(line) - len(content), MAX_INDENT)
    kept, position, count = [], 0, 0
    while (match := _MARKER.match(content, position)) and match.end() > position:
        if count < MAX_LINE_MARKERS:
            kept.append(match.group())
        count += 1
        position = match.end()
    if count <= MAX_LINE_MARKERS:
        return " " * indent + content
    return " " * indent + "".join(kept) + " " + content[position:].lstrip(" ")


def _run_length(text: str, index: int) -> int:
    end = index
    while end < len(text) and text[end] == "`":
        end += 1
    return end - index


def _escape_unbalanced(text: str, opening: str, closing: str) -> str:
    """Backslash-escape ``opening`` characters that are never closed, and pairs nested too deep."""
    stack: list[int] = []
    escaped: set[int] = set()
    never_closed: set[int] = set()  # lengths of backtick runs with no closing run: no need to look again
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "`":  # code (a span or a fence) shows brackets as typed: skip it whole
            run = _run_length(text, index)
            end = -1 if run in never_closed else text.find("`" * run, index + run)
            if end == -1:
                never_closed.add(run)
                index += run
            else:
                index = end + run
            continue
        if char == opening:
            stack.append(index)
        elif char == closing and stack:
            start = stack.pop()
            if len(stack) >= MAX_BRACKET_DEPTH:
                escaped.update((start, index))
        index += 1
    escaped.update(stack)
    if not escaped:
        return text
    return "".join("\\" + char if i in escaped else char for i, char in enumerate(text))


def bounded_source(text: str) -> str:
    """The Markdown as the renderer gets it: nesting and brackets bounded (see the module's docstring)."""
    text = "\n".join(_bound_line(line) for line in text.split("\n"))
    text = _escape_unbalanced(text, "[", "]")
    return _escape_unbalanced(text, "(", ")")


def plain_text(text: str) -> str:
    """The text escaped, paragraphs and line breaks kept: what is shown when Markdown is not rendered."""
    return linebreaks(escape(text))


# Pages render the same notes and comments again and again (a timeline, a thread): keep the last
# thousand results per process. The output depends on the text alone, so a hit is always right.
@functools.lru_cache(maxsize=1024)
def render_markdown(text: str) -> str:
    """Markdown to HTML with only harmless tags: no script, no event handlers, links made safe.

    Raw HTML in the input is escaped rather than passed through; nh3 (ammonia) then keeps only the
    tags above, only http(s)/mailto links, and adds rel="noopener noreferrer nofollow" to them.
    """
    text = text or ""
    if len(text) > MAX_RENDERED_CHARS or len(_MARKUP.findall(text)) > MAX_MARKUP_CHARS:
        return plain_text(text)
    try:
        html = markdown_lib.markdown(bounded_source(text), extensions=EXTENSIONS, output_format="html")
    except Exception:  # RecursionError included: show the text rather than break the page
        logger.exception("Markdown rendering failed on %d characters; shown as plain text", len(text))
        return plain_text(text)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")
