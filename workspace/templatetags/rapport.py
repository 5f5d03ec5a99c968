from django import template
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from workspace.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """Render user-written Markdown, sanitised (see workspace.markdown)."""
    return mark_safe(render_markdown(text))  # noqa: S308  (sanitised by nh3 just above)


@register.filter
def weekday_datetime(value):
    """A moment with its weekday, written as every other date on the page (config/formats):
    "Sat 28 Nov 2026, 14:00", « sam 28 nov. 2026, 14:00 »."""
    if not value:
        return ""
    moment = template_localtime(value)
    return f"{date_format(moment, 'D')} {date_format(moment, 'DATETIME_FORMAT')}"
