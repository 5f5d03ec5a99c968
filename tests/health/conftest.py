"""Health tests run Celery tasks in-process, whatever REDIS_URL says, so they stay hermetic.

Only the real-worker test talks to a broker; it overrides ``_eager_tasks`` in its own module.
"""

import pytest

from config.celery import app


@pytest.fixture(autouse=True)
def _eager_tasks():
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
