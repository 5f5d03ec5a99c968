"""Signals of the engagement domain, for the layers above it that keep something derived from it.

The domain cannot call those layers: they import its models, and imports only go downwards
(docs/architecture.md). So a write says what happened and they listen. Both are sent inside the
write's transaction, so whatever a receiver writes commits or rolls back with it.

``engagement_changed``: something the health engine reads about an engagement changed (a session,
a milestone, a KPI, feedback, a planned break...). Arguments: ``engagement_id``. The health engine
queues a rescore (``health.services.request_rescore``).

``engagement_closed``: an engagement was closed. Arguments: ``engagement``, ``user`` (who closed it,
or None), ``note``. The health engine resolves its live flags, which would otherwise never wake.
"""

from django.dispatch import Signal

engagement_changed = Signal()
engagement_closed = Signal()
