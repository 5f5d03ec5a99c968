from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Manager dashboard")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from clients.models import Client
        from dashboard import caching
        from engagements.models import Engagement
        from health.models import Flag, FlagEvent
        from health.signals import health_changed

        # What the portfolio page shows: stored health (scores, figures, flags), the engagements,
        # their clients and their leads. See dashboard.caching: scoring runs announce themselves
        # with health_changed; what people do saves a model (a person acting on a flag writes a
        # FlagEvent, always, in the same transaction).
        health_changed.connect(caching.portfolio_rescored, dispatch_uid="dashboard.health_changed")
        for model in (Engagement, Client, Flag, FlagEvent):
            post_save.connect(caching.portfolio_changed, sender=model, dispatch_uid=f"dashboard.save.{model.__name__}")
            post_delete.connect(caching.portfolio_changed, sender=model,
                                dispatch_uid=f"dashboard.delete.{model.__name__}")
        post_save.connect(_person_saved, sender=get_user_model(), dispatch_uid="dashboard.save.User")
        post_delete.connect(caching.portfolio_changed, sender=get_user_model(), dispatch_uid="dashboard.delete.User")


def _person_saved(sender, update_fields=None, **kwargs):
    """A person's name or role shows on the dashboard; signing in (which saves ``last_login``) or
    choosing a language does not (the page cache is kept per language already)."""
    from dashboard import caching

    if update_fields is not None and set(update_fields) <= {"last_login", "password", "language"}:
        return
    caching.portfolio_changed()
