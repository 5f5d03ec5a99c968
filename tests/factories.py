"""factory_boy factories for every model. Keep them minimal: a test states what matters to it."""

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import User
from clients.models import Client, Contact, SponsorPeriod
from engagements.models import (
    KPI,
    Engagement,
    KPIMeasurement,
    Milestone,
    MilestoneComment,
    PlannedBreak,
    Session,
    Side,
)
from feedback.models import FeedbackResponse, PulseRequest

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class ConsultantFactory(UserFactory):
    is_consultant = True


class ManagerFactory(UserFactory):
    is_manager = True


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    industry = "Retail"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    title = "Head of Operations"
    seniority = Contact.Seniority.MANAGER


class ClientUserFactory(UserFactory):
    """A portal user linked to a new contact; pass ``contact__client=`` to choose the client."""

    contact = factory.RelatedFactory(ContactFactory, factory_related_name="user",
                                     email=factory.SelfAttribute("..email"))


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Engagement {n}")
    start = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=400))
    lead = factory.SubFactory(ConsultantFactory)
    status = Engagement.Status.ACTIVE
    planned_cadence_days = 14

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        if not create:
            return
        self.team.add(self.lead, *(extracted or []))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session
        skip_postgeneration_save = True

    engagement = factory.SubFactory(EngagementFactory)
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    duration_minutes = 60
    channel = Session.Channel.MEETING
    focus = Session.Focus.STRATEGY
    initiated_by = Side.CONSULTANT

    @factory.post_generation
    def client_attendees(self, create, extracted, **kwargs):
        if create and extracted:
            self.client_attendees.set(extracted)


class PlannedBreakFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlannedBreak

    engagement = factory.SubFactory(EngagementFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=13))
    reason = PlannedBreak.Reason.HOLIDAY


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    engagement = factory.SubFactory(EngagementFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    phase = Milestone.Phase.ACTION
    status = Milestone.Status.AGREED
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))
    shared_with_client = True
    created_at = factory.LazyFunction(timezone.now)


class MilestoneCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneComment

    milestone = factory.SubFactory(MilestoneFactory)
    author = factory.SubFactory(ConsultantFactory)
    side = Side.CONSULTANT
    text = "Looks good to me."
    created_at = factory.LazyFunction(timezone.now)


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    engagement = factory.SubFactory(EngagementFactory)
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "%"


class KPIMeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPIMeasurement

    kpi = factory.SubFactory(KPIFactory)
    date = factory.Sequence(lambda n: timezone.localdate() - dt.timedelta(days=n))
    value = 42


class PulseRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PulseRequest

    engagement = factory.SubFactory(EngagementFactory)
    contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..engagement.client"))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))


class FeedbackResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackResponse

    engagement = factory.SubFactory(EngagementFactory)
    side = Side.CLIENT
    respondent_contact = factory.SubFactory(ContactFactory, client=factory.SelfAttribute("..engagement.client"))
    submitted_at = factory.LazyFunction(timezone.now)
    rating = 4


class SponsorPeriodFactory(factory.django.DjangoModelFactory):
    """A contact's time as sponsor; pass ``contact=`` (the period's client follows the contact)."""

    class Meta:
        model = SponsorPeriod

    contact = factory.SubFactory(ContactFactory, seniority=Contact.Seniority.EXECUTIVE)
    client = factory.SelfAttribute("contact.client")
    start = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
    end = None


class FlagFactory(factory.django.DjangoModelFactory):
    """A live flag as the health engine would raise it (tests of pages and flag actions)."""

    class Meta:
        model = "health.Flag"

    engagement = factory.SubFactory(EngagementFactory)
    kind = "cadence_drop"
    severity = "medium"
    status = "open"
    evidence = factory.LazyFunction(lambda: {"days_without_session": 40, "planned_cadence_days": 14})
    raised_on = factory.LazyFunction(timezone.localdate)
    episode_start = factory.SelfAttribute("raised_on")
    last_seen_on = factory.SelfAttribute("raised_on")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        flag = super()._create(model_class, *args, **kwargs)
        _latest_health_follows(flag.engagement_id)
        return flag


class HealthSnapshotFactory(factory.django.DjangoModelFactory):
    """A stored snapshot, for tests that read health rather than compute it."""

    class Meta:
        model = "health.HealthSnapshot"

    engagement = factory.SubFactory(EngagementFactory)
    date = factory.LazyFunction(timezone.localdate)
    score = 72.5
    mode = "co_production"
    state = "consultative"
    depth = 0.62
    balance = 0.45
    algorithm_version = 1

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        snapshot = super()._create(model_class, *args, **kwargs)
        _latest_health_follows(snapshot.engagement_id)
        return snapshot


def _latest_health_follows(engagement_id: int) -> None:
    """As the scoring run does, bring the engagement's latest figures (EngagementHealth) up to date."""
    from health.services import engagement_health_refresh

    engagement_health_refresh(engagement_ids=[engagement_id])
