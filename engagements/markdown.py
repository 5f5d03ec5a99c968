"""Markdown from users (session notes, milestone descriptions, comments) rendered safely."""

import functools

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "h5",
                "hr", "table", "thead", "tbody", "tr", "th", "td", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


# Pages render the same notes and comments again and again (a timeline, a thread): keep the last
# thousand results per process. The output depends on the text alone, so a hit is always right.
@functools.lru_cache(maxsize=1024)
def render_markdown(text: str) -> str:
    """Markdown to HTML with only harmless tags: no script, no event handlers, links made safe.

    Raw HTML in the input is escaped rather than passed through; nh3 (ammonia) then keeps only the
    tags above, only http(s)/mailto links, and adds rel="noopener noreferrer nofollow" to them.
    """
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")
