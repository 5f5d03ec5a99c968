from django import template
from django.utils.safestring import mark_safe

from engagements.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """Render user-written Markdown, sanitised (see engagements.markdown)."""
    return mark_safe(render_markdown(text))  # noqa: S308  (sanitised by nh3 just above)
