"""Signals of the health engine, for apps that keep something derived from stored health.

``health_changed`` is sent once a transaction that changed stored health has committed: a scoring
run wrote snapshots, latest figures or flags, or a person moved a flag along its lifecycle. The
dashboard listens to it to know when its cached pages are out of date (docs/dashboard.md).
Arguments: ``engagement_ids``, the engagements concerned.
"""

from django.dispatch import Signal

health_changed = Signal()
