"""What a browser downloads before it can show a page: no chart library up front, and static files
served compressed in production."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.ops.test_deploy_settings import PRODUCTION_ENV, _run

pytestmark = pytest.mark.django_db

CHART_JS = "vendor/chart-4.6.1.umd.min.js"  # the version is in the name: a new one is a new URL
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_no_template_loads_a_script_that_blocks_the_rendering():
    """Every <script src> of our pages is deferred (or async, or a module): the page is drawn before any
    script runs, so no script sits on Lighthouse's critical path. (The admin and the API's Swagger page are
    the libraries' own templates, not ours.)"""
    blocking = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8")):
            if " src=" in tag and not re.search(r"\s(defer|async)[\s>]|type=\"module\"", tag):
                blocking.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert blocking == []
    assert len(list(TEMPLATES.rglob("*.html"))) > 50  # the folder read is the one the pages come from


def test_the_engagement_page_loads_chart_js_only_when_a_chart_nears_the_screen(client, consultant, engagement):
    kpi = factories.KPIFactory(engagement=engagement)
    for days in (70, 40, 10):
        factories.KPIMeasurementFactory(kpi=kpi, date=timezone.localdate() - dt.timedelta(days=days))
    client.force_login(consultant)
    content = client.get(reverse("engagements:detail", args=[engagement.pk])).content.decode()
    assert f'<script src="/static/{CHART_JS}"' not in content
    assert f'data-chart-src="/static/{CHART_JS}" defer' in content  # workspace.js fetches it (rapport.js)


@pytest.mark.parametrize("name", ["dashboard:home", "dashboard:trends"])
def test_the_dashboard_loads_chart_js_only_when_a_chart_nears_the_screen(client, manager, name):
    client.force_login(manager)
    content = client.get(reverse(name)).content.decode()
    assert f'<script src="/static/{CHART_JS}"' not in content
    assert f'data-chart-src="/static/{CHART_JS}" defer' in content


def test_production_serves_hashed_compressed_static_files():
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
            "from django.conf import settings as s; print(s.STORAGES['staticfiles']['BACKEND'])")
    result = _run(["-c", code], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    # A gzip copy next to each hashed file (and Brotli with the brotli package), served by WhiteNoise with
    # far-future caching headers.
    assert result.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage"
