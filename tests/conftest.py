"""Shared fixtures: the personas every test can ask for."""

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def consultant(db):
    return factories.ConsultantFactory(email="consultant@firm.example", full_name="Camille Conseil")


@pytest.fixture
def other_consultant(db):
    return factories.ConsultantFactory(email="other@firm.example", full_name="Oscar Autre")


@pytest.fixture
def manager(db):
    return factories.ManagerFactory(email="manager@firm.example", full_name="Maya Manager")


@pytest.fixture
def engagement(consultant):
    """An active engagement staffed by ``consultant``."""
    return factories.EngagementFactory(lead=consultant, client__name="Acme")


@pytest.fixture
def client_user(engagement):
    """A portal user, contact of the engagement's client."""
    return factories.ClientUserFactory(email="client@acme.example", contact__client=engagement.client)


@pytest.fixture
def other_client_user(db):
    """A portal user of a different client."""
    return factories.ClientUserFactory(email="client@globex.example", contact__client__name="Globex")
