FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 1000 rapport
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=rapport:rapport . .
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_DEBUG=0 DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --no-input
USER rapport
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
