"""What the dashboard stores of its own: the version its cached pages are keyed on."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PortfolioVersion(models.Model):
    """One row whose numbers move after every commit that may change what the dashboard shows.

    The dashboard caches its rendered portfolio under a key that includes this number
    (``dashboard.caching``); moving it makes every cached page stale at once, in every process,
    without a shared cache. It lives in the database so that it moves with the data: a web process,
    a Celery worker and a management command all see the same number.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # Moved by what people do (edit an engagement, act on a flag): the next visit shows it.
    version = models.BigIntegerField(_("version"), default=0)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    # Moved by scoring runs (nightly, and the rescore after each logged session): a cached page
    # may lag behind it by up to dashboard.caching.RESCORE_GRACE_SECONDS.
    rescored_version = models.BigIntegerField(_("rescored version"), default=0)
    rescored_at = models.DateTimeField(_("rescored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portfolio version")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="portfolio_version_single_row")]

    def __str__(self) -> str:
        return f"v{self.version}"
