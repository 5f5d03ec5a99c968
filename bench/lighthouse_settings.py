"""The settings bench/lighthouse.py runs Rapport with: production's, plus the compression of HTML that
Caddy does in front of every production deployment (ops/Caddyfile: `encode zstd gzip`), since the
script serves gunicorn directly. Static files need nothing more: WhiteNoise serves them compressed."""

from config.settings import *  # noqa: F403

MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *MIDDLEWARE]  # noqa: F405
