"""Resolve the live flags of engagements closed before closing did it (health 0008).

Closed engagements are not scored, so such flags would never wake or auto-resolve; the queue no
longer lists them. They are resolved as the closing flow now resolves them: a note, the closing
date as the end of the episode, one history event each, and the live-flag count recounted.
"""

from django.db import migrations
from django.db.models import DateField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

LIVE = ["open", "acknowledged", "snoozed"]
NOTE = "Resolved when the engagement was closed (before flags were resolved at closing)."


def resolve(apps, schema_editor):
    Engagement = apps.get_model("engagements", "Engagement")
    Flag = apps.get_model("health", "Flag")
    FlagEvent = apps.get_model("health", "FlagEvent")
    EngagementHealth = apps.get_model("health", "EngagementHealth")
    now = timezone.now()
    flags = list(Flag.objects.filter(status__in=LIVE, engagement__status="closed").values_list("pk", "engagement_id"))
    if not flags:
        return
    closed_on = (Engagement.objects.filter(pk=OuterRef("engagement_id"))
                 .annotate(day=TruncDate("closed_at")).values("day")[:1])
    Flag.objects.filter(pk__in=[pk for pk, _engagement in flags]).update(
        status="resolved", resolved_at=now, resolution_note=NOTE,
        episode_ended_on=Coalesce(Subquery(closed_on, output_field=DateField()), Value(timezone.localdate())))
    FlagEvent.objects.bulk_create([FlagEvent(flag_id=pk, created_at=now, action="resolved", note=NOTE)
                                   for pk, _engagement in flags])
    EngagementHealth.objects.filter(engagement_id__in={engagement for _pk, engagement in flags}).update(
        live_flags=0, worst_flag_severity=None)


class Migration(migrations.Migration):

    dependencies = [
        ("health", "0007_flag_event_until"),
        ("engagements", "0004_audit_trail"),
    ]

    operations = [migrations.RunPython(resolve, migrations.RunPython.noop)]
