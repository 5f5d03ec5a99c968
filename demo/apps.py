from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo portfolio (``manage.py seed_demo``, which ``make run`` calls): it fills every app with a
    year of stories, so it sits on top with the pages."""

    name = "demo"
    verbose_name = _("Demo data")
