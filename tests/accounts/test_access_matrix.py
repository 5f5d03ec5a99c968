"""The permission matrix: every role against every model's read access (docs/architecture.md).

One world: client Acme with engagement E (staffed by ``on``), client Globex with its own user.
Each row names an object and the roles that may see it; every other role must not.
"""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

import access
from clients.services import contact_set_sponsor
from engagements.models import Engagement, Side
from tests import factories

ROLES = ["consultant_on", "consultant_off", "manager", "client_same", "client_other", "anonymous", "former_client"]
STAFF = {"consultant_on", "manager"}
STAFF_AND_CLIENT = STAFF | {"client_same"}

# Which access function answers for each model. A model added to an app without a row here fails
# test_every_model_is_covered, so nobody forgets to decide who may see it.
SCOPES = {
    "clients.Client": access.clients_for,
    "clients.Contact": access.contacts_for,
    "clients.SponsorPeriod": access.sponsor_periods_for,
    "engagements.Engagement": access.engagements_for,
    "engagements.Session": access.sessions_for,
    "engagements.PlannedBreak": access.planned_breaks_for,
    "engagements.Milestone": access.milestones_for,
    "engagements.MilestoneComment": access.milestone_comments_for,
    "engagements.KPI": access.kpis_for,
    "engagements.KPIMeasurement": access.kpi_measurements_for,
    "feedback.FeedbackResponse": access.feedback_responses_for,
    "feedback.PulseRequest": access.pulse_requests_for,
}
# Models whose access is decided elsewhere, with the reason.
NOT_SCOPED_HERE = {
    "accounts.User": "users are managed in the back office only",
    "accounts.Authenticator": "two-factor devices: only their owner, through accounts/mfa.py, never listed",
    "accounts.RecoveryCodeSet": "two-factor devices: only their owner, through accounts/mfa.py, never listed",
    "accounts.RecoveryCode": "hashes of recovery codes, read only to check a code (accounts/mfa.py)",
}


@pytest.fixture
def world(db):
    on = factories.ConsultantFactory()
    off = factories.ConsultantFactory()
    manager = factories.ManagerFactory()
    engagement = factories.EngagementFactory(lead=on)
    acme = engagement.client
    client_same = factories.ClientUserFactory(contact__client=acme)
    former = factories.ClientUserFactory(contact__client=acme, contact__active=False)
    client_other = factories.ClientUserFactory(contact__client__name="Globex")
    colleague = factories.ContactFactory(client=acme)
    contact_set_sponsor(contact=colleague)
    shared_milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=True)
    internal_milestone = factories.MilestoneFactory(engagement=engagement, shared_with_client=False)
    shared_kpi = factories.KPIFactory(engagement=engagement, shared_with_client=True)
    internal_kpi = factories.KPIFactory(engagement=engagement, shared_with_client=False)
    objects = {
        "client": acme,
        "contact_self": client_same.contact,
        "contact_colleague": colleague,
        "contact_former": former.contact,
        "sponsor_period": acme.sponsor_periods.get(),
        "engagement": engagement,
        "session_shared": factories.SessionFactory(engagement=engagement, shared_with_client=True),
        "session_internal": factories.SessionFactory(engagement=engagement, shared_with_client=False),
        "planned_break": factories.PlannedBreakFactory(engagement=engagement),
        "milestone_shared": shared_milestone,
        "milestone_internal": internal_milestone,
        "comment_on_shared": factories.MilestoneCommentFactory(milestone=shared_milestone, author=on),
        "comment_on_internal": factories.MilestoneCommentFactory(milestone=internal_milestone, author=on),
        "kpi_shared": shared_kpi,
        "kpi_internal": internal_kpi,
        "measurement_shared": factories.KPIMeasurementFactory(kpi=shared_kpi),
        "measurement_internal": factories.KPIMeasurementFactory(kpi=internal_kpi),
        "feedback_own": factories.FeedbackResponseFactory(engagement=engagement,
                                                          respondent_contact=client_same.contact),
        "feedback_colleague": factories.FeedbackResponseFactory(engagement=engagement, respondent_contact=colleague),
        "self_assessment": factories.FeedbackResponseFactory(engagement=engagement, side=Side.CONSULTANT,
                                                             respondent_contact=None, respondent_user=on),
        "pulse_own": factories.PulseRequestFactory(engagement=engagement, contact=client_same.contact),
        "pulse_colleague": factories.PulseRequestFactory(engagement=engagement, contact=colleague),
    }
    users = {"consultant_on": on, "consultant_off": off, "manager": manager, "client_same": client_same,
             "client_other": client_other, "anonymous": AnonymousUser(), "former_client": former}
    return users, objects


MATRIX = {
    "client": STAFF_AND_CLIENT,
    "contact_self": STAFF_AND_CLIENT,
    "contact_colleague": STAFF_AND_CLIENT,
    "contact_former": STAFF,
    "sponsor_period": STAFF,
    "engagement": STAFF_AND_CLIENT,
    "session_shared": STAFF_AND_CLIENT,
    "session_internal": STAFF,
    "planned_break": STAFF,
    "milestone_shared": STAFF_AND_CLIENT,
    "milestone_internal": STAFF,
    "comment_on_shared": STAFF_AND_CLIENT,
    "comment_on_internal": STAFF,
    "kpi_shared": STAFF_AND_CLIENT,
    "kpi_internal": STAFF,
    "measurement_shared": STAFF_AND_CLIENT,
    "measurement_internal": STAFF,
    "feedback_own": STAFF_AND_CLIENT,
    "feedback_colleague": STAFF,
    "self_assessment": STAFF,
    "pulse_own": STAFF_AND_CLIENT,
    "pulse_colleague": STAFF,
}


def _scope_for(obj):
    return SCOPES[obj._meta.label]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(MATRIX))
def test_read_access_matrix(world, role, key):
    users, objects = world
    obj = objects[key]
    visible = _scope_for(obj)(users[role]).filter(pk=obj.pk).exists()
    assert visible == (role in MATRIX[key]), f"{role} {'sees' if visible else 'does not see'} {key}"


def test_matrix_has_a_row_for_every_object(world):
    _, objects = world
    assert set(objects) == set(MATRIX)


def test_every_model_is_covered():
    labels = {model._meta.label for app in ("accounts", "clients", "engagements", "feedback")
              for model in apps.get_app_config(app).get_models()}
    # Audit-trail copies (django-simple-history) are read only by managers, through
    # workspace.selectors.engagement_audit_trail, which tests/engagements/test_audit_trail.py covers.
    labels = {label for label in labels if not label.split(".")[1].startswith("Historical")}
    uncovered = labels - set(SCOPES) - set(NOT_SCOPED_HERE)
    assert not uncovered, f"Decide who may read {sorted(uncovered)} in access/ and add rows here"


def test_a_consultant_on_the_team_but_not_lead_sees_the_engagement(world):
    users, objects = world
    engagement = objects["engagement"]
    engagement.team.add(users["consultant_off"])
    assert access.engagements_for(users["consultant_off"]).filter(pk=engagement.pk).exists()


def test_an_inactive_consultant_sees_nothing(world):
    users, objects = world
    users["consultant_on"].is_active = False
    assert not access.engagements_for(users["consultant_on"]).exists()


def test_out_of_scope_lookup_is_a_404_not_a_403(world):
    users, objects = world
    with pytest.raises(Http404):
        access.get_engagement_for(users["client_other"], objects["engagement"].pk)
    with pytest.raises(Http404):
        access.get_milestone_for(users["client_same"], objects["milestone_internal"].pk)
    with pytest.raises(Http404):
        access.get_session_for(users["consultant_off"], objects["session_shared"].pk)
    assert access.get_engagement_for(users["client_same"], objects["engagement"].pk) == objects["engagement"]


def test_unknown_id_is_a_404(world):
    users, _ = world
    with pytest.raises(Http404):
        access.get_engagement_for(users["manager"], 999_999)


def test_clients_never_see_health(world):
    users, objects = world
    assert not access.health_visible_engagements_for(users["client_same"]).exists()
    assert access.health_visible_engagements_for(users["consultant_on"]).filter(pk=objects["engagement"].pk).exists()
    assert access.can_manage_flags(users["manager"])
    assert not access.can_manage_flags(users["consultant_on"])


ENGAGEMENT_SCOPES = [access.sessions_for, access.milestones_for, access.kpis_for, access.planned_breaks_for,
                     access.health_snapshots_for, access.flags_for]


@pytest.mark.parametrize("role", [*ROLES, "consultant_on_team"])
@pytest.mark.parametrize("scope", ENGAGEMENT_SCOPES, ids=lambda scope: scope.__name__)
@pytest.mark.parametrize("team_loaded", [True, False], ids=["team loaded", "team not loaded"])
def test_engagement_rows_are_the_scoped_rows_of_that_engagement(world, role, scope, team_loaded):
    """The engagement page reads an engagement's rows without the scope's subquery when the engagement
    in hand shows it is in the user's scope: the rows must be those of the scope, for every role."""
    users, objects = world
    if role == "consultant_on_team":
        user = factories.ConsultantFactory()
        objects["engagement"].team.add(user)
    else:
        user = users[role]
    factories.HealthSnapshotFactory(engagement=objects["engagement"])
    factories.FlagFactory(engagement=objects["engagement"])
    elsewhere = factories.EngagementFactory(lead=users["consultant_on"])
    factories.SessionFactory(engagement=elsewhere)
    for engagement in (objects["engagement"], elsewhere):
        in_hand = Engagement.objects.prefetch_related("team") if team_loaded else Engagement.objects
        engagement = in_hand.get(pk=engagement.pk)
        expected = set(scope(user).filter(engagement=engagement).values_list("pk", flat=True))
        got = set(access.engagement_rows_for(scope, user, engagement).values_list("pk", flat=True))
        assert got == expected
        if role in ("consultant_off", "client_other", "anonymous"):
            assert not got


def test_a_consultant_off_the_engagement_gets_none_of_its_rows_even_with_rows_there(world):
    users, objects = world
    engagement = Engagement.objects.prefetch_related("team").get(pk=objects["engagement"].pk)
    assert access.sessions_for(users["consultant_on"]).filter(engagement=engagement).exists()
    assert not access.engagement_rows_for(access.sessions_for, users["consultant_off"], engagement).exists()
    assert not access.engagement_rows_for(access.milestones_for, users["client_other"], engagement).exists()
    shared_only = access.engagement_rows_for(access.sessions_for, users["client_same"], engagement)
    assert list(shared_only) == [objects["session_shared"]]


def test_engagement_rows_leave_out_the_scope_subquery_only_when_the_engagement_shows_it_is_in_scope(world):
    users, objects = world
    engagement = Engagement.objects.prefetch_related("team").get(pk=objects["engagement"].pk)
    for role in ("manager", "consultant_on"):
        sql = str(access.engagement_rows_for(access.sessions_for, users[role], engagement).query)
        assert "engagements_engagement" not in sql
    off = str(access.engagement_rows_for(access.sessions_for, users["consultant_off"], engagement).query)
    assert "engagements_engagement" in off


def test_deactivated_staff_and_a_consultant_taken_off_the_team_get_none_of_an_engagements_rows(world):
    """The engagement in hand names its lead and team: that alone must not open its rows to a lead
    or manager whose account was deactivated, nor to a consultant no longer on the team."""
    users, objects = world
    lead, manager = users["consultant_on"], users["manager"]
    former_member = factories.ConsultantFactory()
    objects["engagement"].team.add(former_member)
    objects["engagement"].team.remove(former_member)
    lead.is_active = manager.is_active = False
    lead.save(update_fields=["is_active"])
    manager.save(update_fields=["is_active"])
    engagement = Engagement.objects.prefetch_related("team").get(pk=objects["engagement"].pk)
    assert engagement.lead_id == lead.pk
    for user in (lead, manager, former_member):
        for scope in ENGAGEMENT_SCOPES:
            assert not access.engagement_rows_for(scope, user, engagement).exists(), (user, scope.__name__)
