"""The Celery app. Settings come from Django's (CELERY_* names); tasks from each app's tasks.py.

Serialisation (JSON only), late acknowledgement, time limits and the beat schedule are set in
config/settings.py; tasks add their own retry policy. Without REDIS_URL the settings make every
task run in-process (eager), so the embedded first run needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
