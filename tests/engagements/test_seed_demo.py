import pytest
from django.core.management import call_command

from accounts import access
from accounts.models import User
from clients.models import Client
from engagements.models import Engagement, Milestone, Session

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_portfolio_once(capsys):
    call_command("seed_demo")
    counts = (Client.objects.count(), Engagement.objects.count(), Session.objects.count(), Milestone.objects.count())
    assert counts[0] == 8 and counts[1] == 15 and counts[2] > 300

    call_command("seed_demo")
    assert (Client.objects.count(), Engagement.objects.count(), Session.objects.count(),
            Milestone.objects.count()) == counts
    assert "already present" in capsys.readouterr().out


def test_the_demo_logins_have_their_roles_and_scopes():
    call_command("seed_demo")
    consultant = User.objects.get(email="consultant@example.com")
    manager = User.objects.get(email="manager@example.com")
    client_user = User.objects.get(email="client@example.com")
    for user in (consultant, manager, client_user):
        assert user.check_password("rapport-demo")
    assert (consultant.role, manager.role, client_user.role) == ("consultant", "manager", "client")
    assert access.engagements_for(manager).count() == 15
    client_engagements = access.engagements_for(client_user)
    assert set(client_engagements.values_list("client__name", flat=True)) == {"Northwind Retail"}
    assert access.milestones_for(client_user).filter(approval_requested=True).exists()


def test_the_drift_story_has_a_new_sponsor_and_turns_to_kpi_reviews():
    call_command("seed_demo")
    helios = Client.objects.get(name="Helios Energy")
    assert helios.contacts.get(is_sponsor=True).title == "Chief Marketing Officer"
    assert helios.sponsor_periods.count() == 2
    sessions = Session.objects.filter(engagement__title="Brand positioning")
    recent = sessions.order_by("-start")[:8]
    assert sum(s.focus in ("kpi_review", "reporting", "operational", "admin") for s in recent) >= 5
