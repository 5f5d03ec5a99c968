"""settings.HEALTH, read at each use so tests (and a reload) can change it."""

from django.conf import settings

from health.scoring import HealthConfig


def health_config() -> HealthConfig:
    return HealthConfig.from_mapping(settings.HEALTH)
