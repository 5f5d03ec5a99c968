from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The consultant's pages (/engagements/): portfolio, engagement page, sessions, milestones, flags.

    Its URL names keep the ``engagements:`` namespace (``engagements:detail``): they name the pages'
    addresses, which did not change when the pages left the engagements app.
    """

    name = "workspace"
    verbose_name = _("Consultant workspace")
