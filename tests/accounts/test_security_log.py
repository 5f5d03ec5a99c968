import json
import logging

import pytest
from django.http import Http404
from django.urls import reverse

import access
from config.logging import JsonFormatter
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _events(caplog):
    return [r for r in caplog.records if r.name == "rapport.security"]


def test_sign_in_and_failure_are_logged_without_the_password(client, consultant, caplog):
    caplog.set_level(logging.INFO, logger="rapport.security")
    client.post(reverse("accounts:login"), {"username": consultant.email, "password": "wrong-guess-123"})
    client.post(reverse("accounts:login"), {"username": consultant.email, "password": PASSWORD})
    failed, success = _events(caplog)[-2:]
    assert (failed.event, failed.tried) == ("login_failed", consultant.email)
    assert (success.event, success.user_id) == ("login", consultant.pk)
    assert "wrong-guess-123" not in caplog.text and PASSWORD not in caplog.text


def test_reaching_another_tenants_object_is_logged(engagement, other_client_user, caplog):
    caplog.set_level(logging.INFO, logger="rapport.security")
    with pytest.raises(Http404):
        access.get_engagement_for(other_client_user, engagement.pk)
    event = _events(caplog)[-1]
    assert event.event == "out_of_scope"
    assert (event.user_id, event.model, event.object_id) == (other_client_user.pk, "engagements.Engagement",
                                                              str(engagement.pk))


def test_an_id_that_exists_nowhere_is_not_a_security_event(other_client_user, caplog):
    caplog.set_level(logging.INFO, logger="rapport.security")
    with pytest.raises(Http404):
        access.get_engagement_for(other_client_user, 987654)
    assert not _events(caplog)


def test_log_lines_are_json_with_utc_timestamps():
    record = logging.LogRecord("rapport.security", logging.INFO, __file__, 1, "login", (), None)
    record.event, record.user_id = "login", 7
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "login" and line["user_id"] == 7 and line["level"] == "INFO"
    assert line["ts"].endswith("+00:00")


def test_the_api_logs_out_of_scope_ids_too(client, engagement, other_client_user, caplog):
    caplog.set_level(logging.INFO, logger="rapport.security")
    client.force_login(other_client_user)
    response = client.get(f"/api/v1/engagements/{engagement.pk}/")
    assert response.status_code == 404
    event = _events(caplog)[-1]
    assert (event.event, event.model, event.object_id) == ("out_of_scope", "engagements.Engagement",
                                                           str(engagement.pk))
