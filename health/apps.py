from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = _("Health")

    def ready(self):
        from health import receivers  # noqa: F401  (connects the engine to the domain's signals)
