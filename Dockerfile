FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 1000 rapport
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=rapport:rapport . .
# collectstatic needs settings to load, not a real secret or database.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-collectstatic-only-not-a-secret \
    DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    MFA_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWwtayE= \
    python manage.py collectstatic --no-input
USER rapport
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
CMD ["gunicorn", "-c", "config/gunicorn_conf.py", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
