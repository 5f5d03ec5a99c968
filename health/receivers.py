"""What the health engine does when the domain below it changes (engagements/signals.py).

The domain cannot call the engine, which imports its models; it sends a signal inside the write's
transaction instead, and these receivers call the engine's services there.
"""

from django.dispatch import receiver

from engagements.signals import engagement_changed, engagement_closed
from health import services


@receiver(engagement_changed, dispatch_uid="health.rescore")
def rescore(sender, *, engagement_id: int, **_kwargs) -> None:
    services.request_rescore(engagement_id=engagement_id)


@receiver(engagement_closed, dispatch_uid="health.close_flags")
def close_flags(sender, *, engagement, user, note: str, **_kwargs) -> None:
    services.flags_close_for_engagement(engagement=engagement, user=user, note=note)
