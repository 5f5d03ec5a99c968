"""Demo data: a consulting firm's portfolio with realistic histories.

Each engagement follows a *story* told as eras (from N days ago to M days ago) with the way the
two sides worked together in that era: what sessions were about, who took the initiative,
whether the client asked for advice, how milestones and feedback went. The stories cover the
ideas in docs/architecture.md: healthy co-production, a drift to transactional after a new CMO, an
expert-led and a client-led engagement, a cadence drop, a feedback decline, a perception gap and
milestone slippage.

Rows are bulk-inserted (a year of history is thousands of rows) with a fixed random seed, so
the demo is the same on every machine relative to today's date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from calendars.demo import OWNER, seed_demo_calendar
from clients.models import Client, Contact
from clients.services import client_create, contact_create, contact_set_sponsor
from engagements.models import KPI, Engagement, KPIMeasurement, Milestone, MilestoneComment, Session, Side
from feedback.models import FeedbackResponse, PulseRequest

DEMO_PASSWORD = "rapport-demo"  # noqa: S105  (printed in the README on purpose: demo logins only)
CONSULTATIVE = {"strategy": 3, "positioning": 2, "advisory": 3, "co_creation": 3, "kpi_review": 1}
TRANSACTIONAL = {"kpi_review": 5, "reporting": 4, "operational": 2, "admin": 1, "advisory": 1}
OPERATIONAL = {"operational": 4, "reporting": 3, "kpi_review": 2, "admin": 1, "co_creation": 1}


@dataclass
class Era:
    """How the engagement was run between two points in time (days before today)."""

    since: int
    until: int = 0
    cadence: int = 10                 # average days between sessions
    focus: dict = field(default_factory=lambda: CONSULTATIVE)
    client_initiates: float = 0.45    # share of sessions the client asked for
    advice: float = 0.5               # share of sessions where the client asked our view
    milestone_every: int = 30         # days between new milestones
    client_proposes: float = 0.4
    client_comments: float = 0.5      # share of comments written by the client
    comments_per_milestone: int = 3
    client_approves: float = 0.6
    on_time: float = 0.85             # share of due milestones done on time
    rating: float = 4.5               # the client's mean feedback rating
    self_rating: float | None = None  # the consultant's self-assessment (defaults to rating)
    sentiment: int = 4


@dataclass
class Story:
    client: str
    title: str
    lead: str
    team: tuple = ()
    objectives: str = ""
    status: str = Engagement.Status.ACTIVE
    cadence: int = 14
    eras: tuple = ()
    closure: dict | None = None


USERS = [
    ("consultant@example.com", "Camille Laurent", {"is_consultant": True}),
    ("manager@example.com", "Maya Lefèvre", {"is_manager": True, "is_staff": True}),
    ("hugo@example.com", "Hugo Bernard", {"is_consultant": True}),
    ("ines@example.com", "Inès Moreau", {"is_consultant": True}),
]

# client name, industry, contacts (name, email, title, seniority, sponsor since N days ago or None)
CLIENTS = [
    ("Northwind Retail", "Retail", [
        ("Claire Dubois", "client@example.com", "Head of Transformation", "executive", 540),
        ("Tom Riley", "tom.riley@northwind.example", "Store Operations Manager", "manager", None),
    ]),
    ("Helios Energy", "Energy", [
        ("Marc Olivier", "marc.olivier@helios.example", "Chief Executive Officer", "executive", 700),
        ("Sofia Reyes", "sofia.reyes@helios.example", "Chief Marketing Officer", "executive", None),
        ("Lena Park", "lena.park@helios.example", "Brand Manager", "manager", None),
    ]),
    ("Atlas Logistics", "Logistics", [
        ("Bruno Keller", "bruno.keller@atlas.example", "COO", "executive", 500),
        ("Nadia Haddad", "nadia.haddad@atlas.example", "Network Planner", "staff", None),
    ]),
    ("Brightwell Insurance", "Insurance", [
        ("Olivia Grant", "olivia.grant@brightwell.example", "Head of Claims", "senior", 420),
        ("Sam Okafor", "sam.okafor@brightwell.example", "Claims Analyst", "staff", None),
    ]),
    ("Verdant Foods", "Food & beverage", [
        ("Jonas Berg", "jonas.berg@verdant.example", "Chief Sustainability Officer", "executive", 450),
        ("Elena Rossi", "elena.rossi@verdant.example", "Procurement Lead", "manager", None),
    ]),
    ("Quantum Health", "Healthcare", [
        ("Dr. Aisha Rahman", "aisha.rahman@quantum.example", "Chief Medical Officer", "executive", 480),
        ("Peter Novak", "peter.novak@quantum.example", "Digital Programme Manager", "manager", None),
    ]),
    ("Meridian Bank", "Banking", [
        ("Catherine Moreau", "catherine.moreau@meridian.example", "Chief Operating Officer", "executive", 600),
        ("Yusuf Demir", "yusuf.demir@meridian.example", "Head of Risk", "senior", None),
    ]),
    ("Solstice Media", "Media", [
        ("Hannah Weiss", "hannah.weiss@solstice.example", "Chief Digital Officer", "executive", 300),
        ("Leo Martin", "leo.martin@solstice.example", "Audience Analyst", "staff", None),
    ]),
]

# Helios's new CMO becomes sponsor 80 days ago; the relationship then slides to KPI reviews.
NEW_SPONSORS = [("Helios Energy", "sofia.reyes@helios.example", 80)]

STORIES = [
    Story("Northwind Retail", "Omnichannel strategy", "consultant@example.com", ("ines@example.com",),
          "Define the omnichannel target model and the roadmap to reach it, with the store teams.",
          cadence=10, eras=(Era(since=420, cadence=8, client_initiates=0.5, advice=0.6, client_comments=0.55),)),
    Story("Northwind Retail", "Store network review", "ines@example.com", ("consultant@example.com",),
          "Decide which stores to reformat, relocate or close over three years.",
          cadence=14, eras=(Era(since=300, cadence=12, client_initiates=0.4, advice=0.45),)),
    Story("Helios Energy", "Brand positioning", "consultant@example.com", ("hugo@example.com",),
          "Reposition Helios as the partner of the energy transition for mid-size industry.",
          cadence=10, eras=(
              Era(since=480, until=81, cadence=8, advice=0.65, client_initiates=0.45, rating=4.6),
              Era(since=80, cadence=12, focus=TRANSACTIONAL, advice=0.05, client_initiates=0.3,
                  client_proposes=0.1, client_comments=0.25, client_approves=0.2, rating=3.0,
                  self_rating=4.0, sentiment=3),
          )),
    Story("Helios Energy", "Grid partnerships", "hugo@example.com", (),
          "Shortlist and approach partners for regional grid flexibility services.",
          cadence=14, eras=(Era(since=200, cadence=12, advice=0.5),)),
    Story("Atlas Logistics", "Network optimisation", "consultant@example.com", (),
          "Cut transport cost per parcel by 12 % through a redesigned hub network.",
          cadence=14, eras=(Era(since=360, cadence=10, client_initiates=0.0, advice=0.1, client_proposes=0.0,
                                client_comments=0.0, client_approves=0.0, focus={"strategy": 2, "advisory": 3,
                                                                                 "reporting": 2, "kpi_review": 1},
                                rating=3.6, self_rating=4.2),)),
    Story("Atlas Logistics", "Warehouse automation", "hugo@example.com", (),
          "Business case and vendor selection for automated picking.", status=Engagement.Status.CLOSED,
          cadence=14, eras=(Era(since=420, until=200, cadence=12),),
          closure={"reason": Engagement.ClosureReason.COMPLETED, "end_days_ago": 200,
                   "handover_notes": "Vendor contract signed; the client's engineering team owns the roll-out.",
                   "retrospective": "Worked well: joint site visits. Next time: involve IT from week one."}),
    Story("Brightwell Insurance", "Claims process redesign", "hugo@example.com", ("ines@example.com",),
          "Implement the claims process the client specified, on their timeline.",
          cadence=7, eras=(Era(since=330, cadence=6, client_initiates=0.92, advice=0.0, client_proposes=1.0,
                               client_comments=0.9, client_approves=0.9, focus=OPERATIONAL, rating=3.8),)),
    Story("Verdant Foods", "Sustainability roadmap", "ines@example.com", ("consultant@example.com",),
          "Build the 2030 sustainability roadmap with the executive committee.",
          cadence=14, eras=(Era(since=400, until=55, cadence=10),)),
    Story("Verdant Foods", "Supplier programme", "ines@example.com", (),
          "Bring the top 50 suppliers into the decarbonisation programme.",
          cadence=14, eras=(Era(since=260, cadence=12, rating=2.6, self_rating=4.6, advice=0.35),)),
    Story("Quantum Health", "Patient experience", "hugo@example.com", (),
          "Redesign the patient journey for outpatient care.",
          cadence=14, eras=(Era(since=420, until=91, cadence=10, rating=4.6),
                            Era(since=90, cadence=11, rating=2.4, self_rating=3.0, sentiment=3))),
    Story("Quantum Health", "Digital front door", "consultant@example.com", ("hugo@example.com",),
          "Launch online booking and triage across the hospital group.",
          cadence=14, eras=(Era(since=300, cadence=10, on_time=0.3, milestone_every=18, advice=0.4),)),
    Story("Meridian Bank", "Operating model", "ines@example.com", ("hugo@example.com",),
          "Redesign the operating model of retail banking operations.",
          cadence=14, eras=(Era(since=450, cadence=11, advice=0.55, client_initiates=0.5),)),
    Story("Meridian Bank", "Risk culture", "hugo@example.com", (), "Diagnose and strengthen the risk culture.",
          status=Engagement.Status.PAUSED, cadence=21, eras=(Era(since=250, until=40, cadence=18),)),
    Story("Solstice Media", "Audience growth", "consultant@example.com", (),
          "Grow the digital subscriber base by a third in two years.",
          cadence=14, eras=(Era(since=380, cadence=12, advice=0.45, client_initiates=0.4,
                                focus={"strategy": 3, "positioning": 3, "advisory": 2, "co_creation": 3}),)),
    Story("Solstice Media", "Pricing review", "ines@example.com", (), "Review subscription pricing and bundles.",
          status=Engagement.Status.PROPOSED, cadence=14, eras=()),
]

MILESTONE_TITLES = {
    Milestone.Phase.REFLECTION: ["Diagnostic workshop", "Stakeholder interviews", "Options paper",
                                 "Hypotheses review", "Target picture", "Lessons learnt session"],
    Milestone.Phase.ACTION: ["Pilot launch", "Roadmap sign-off", "Business case", "Training wave",
                             "Vendor shortlist", "Roll-out plan", "Quarterly steering"],
}
CLIENT_COMMENTS = ["Can we add the regional view before we decide?", "Agreed — let's involve our finance team.",
                   "We tested this internally, results attached in the share.",
                   "Not convinced yet; what are the risks?",
                   "Good basis. We propose to move the deadline by a week."]
CONSULTANT_COMMENTS = ["Draft shared, comments welcome by Friday.", "Updated after Tuesday's workshop.",
                       "We added the two scenarios you asked for.", "Ready for your review."]
NOTES = {
    "consultative": "We discussed **{topic}**. The client asked how peers approach it; we shared two options "
                    "and agreed to test the first one with the regional teams.",
    "transactional": "Monthly review of the KPI pack ({topic}). Numbers presented; few questions. "
                     "Action: send the updated dashboard.",
}


def _aware(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class DemoBuilder:
    """Creates the demo portfolio; safe to run again (what exists is left as it is)."""

    def __init__(self, *, today: dt.date | None = None, seed: int = 42):
        self.today = today or timezone.localdate()
        self.random = random.Random(seed)
        self.created = {"users": 0, "clients": 0, "engagements": 0, "sessions": 0, "milestones": 0}

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    @transaction.atomic
    def build(self) -> dict:
        self.users = {email: self._user(email, name, flags) for email, name, flags in USERS}
        for name, industry, contacts in CLIENTS:
            if Client.objects.filter(name__iexact=name).exists():
                continue
            self._client(name, industry, contacts)
            for story in (s for s in STORIES if s.client == name):
                self._engagement(story)
        self._calendar()
        return self.created

    # --- people ---------------------------------------------------------------------------------

    def _user(self, email, full_name, flags) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name, **flags)
            self.created["users"] += 1
        return user

    def _portal_user(self, contact: Contact) -> User:
        user = self._user(contact.email, contact.name, {})
        contact.user = user
        contact.save(update_fields=["user"])
        return user

    def _client(self, name, industry, contacts) -> Client:
        client = client_create(name=name, industry=industry, account_lead=self.users["manager@example.com"])
        self.created["clients"] += 1
        for contact_name, email, title, seniority, sponsor_days in contacts:
            contact = contact_create(client=client, name=contact_name, email=email, title=title, seniority=seniority,
                                     is_sponsor=sponsor_days is not None,
                                     sponsor_since=self.day(sponsor_days) if sponsor_days else None)
            if email == "client@example.com":
                self._portal_user(contact)
        for client_name, email, days_ago in NEW_SPONSORS:
            if client_name == name:
                contact_set_sponsor(contact=client.contacts.get(email=email), since=self.day(days_ago))
        return client

    # --- an engagement and its history ----------------------------------------------------------

    def _engagement(self, story: Story) -> Engagement:
        client = Client.objects.get(name=story.client)
        first = max((era.since for era in story.eras), default=20)
        engagement = Engagement.objects.create(
            client=client, title=story.title, objectives=story.objectives, lead=self.users[story.lead],
            start=self.day(first + 7), planned_cadence_days=story.cadence,
            status=Engagement.Status.ACTIVE if story.closure else story.status,
        )
        engagement.team.set([self.users[story.lead], *(self.users[email] for email in story.team)])
        self.created["engagements"] += 1
        contacts = list(client.contacts.select_related("user").order_by("pk"))
        self.sponsor_periods = list(client.sponsor_periods.select_related("contact").order_by("-start"))
        kpis = self._kpis(engagement, first)
        for era in story.eras:
            self._sessions(engagement, era, contacts, kpis)
            self._milestones(engagement, era, contacts)
            self._feedback(engagement, era, contacts)
        if story.closure:
            engagement.status = Engagement.Status.CLOSED
            engagement.closure_reason = story.closure["reason"]
            engagement.handover_notes = story.closure["handover_notes"]
            engagement.retrospective = story.closure["retrospective"]
            engagement.end = self.day(story.closure["end_days_ago"])
            engagement.closed_at = _aware(engagement.end, 17)
            engagement.save()
        if client.name == "Northwind Retail" and story.title == "Omnichannel strategy":
            self._waiting_for_client(engagement, contacts)
        return engagement

    def _sponsor_on(self, day: dt.date, contacts: list[Contact]) -> Contact:
        period = next((p for p in self.sponsor_periods if p.start <= day), None)
        return period.contact if period else contacts[0]

    def _sessions(self, engagement, era: Era, contacts, kpis):
        rnd = self.random
        focuses, weights = zip(*era.focus.items(), strict=True)
        sessions, attendees, consultants, discussed = [], [], [], []
        team = list(engagement.team.all())
        days_ago = era.since
        while days_ago > era.until:
            day = self.day(days_ago)
            if day.weekday() >= 5:
                days_ago -= 1
                continue
            focus = rnd.choices(focuses, weights)[0]
            consultative = focus in Session.CONSULTATIVE_FOCUSES
            sponsor = self._sponsor_on(day, contacts)
            session = Session(
                engagement=engagement, start=_aware(day, rnd.choice([9, 10, 11, 14, 15, 16])),
                duration_minutes=rnd.choice([45, 60, 60, 90, 120]) if consultative else rnd.choice([30, 45, 60]),
                channel=rnd.choice(["meeting", "video", "workshop" if consultative else "call"]),
                focus=focus, initiated_by=Side.CLIENT if rnd.random() < era.client_initiates else Side.CONSULTANT,
                advice_requested=rnd.random() < era.advice,
                notes=NOTES["consultative" if consultative else "transactional"].format(
                    topic=dict(Session.Focus.choices)[focus].lower()),
                next_steps="Share the revised draft; book the follow-up.",
                shared_with_client=rnd.random() < 0.6,
                sentiment=max(1, min(5, era.sentiment + rnd.choice([-1, 0, 0, 1]))),
                logged_by=engagement.lead,
            )
            sessions.append(session)
            people = [sponsor] if rnd.random() < 0.7 else []
            people += rnd.sample([c for c in contacts if c != sponsor], k=min(1, len(contacts) - 1))
            attendees.append(people)
            consultants.append(rnd.sample(team, k=min(len(team), rnd.choice([1, 2]))))
            discussed.append(kpis if focus in ("kpi_review", "reporting") else [])
            days_ago -= max(1, round(rnd.gauss(era.cadence, era.cadence / 4)))
        Session.objects.bulk_create(sessions)
        Through = Session.client_attendees.through
        Through.objects.bulk_create([Through(session_id=s.pk, contact_id=c.pk)
                                     for s, people in zip(sessions, attendees, strict=True) for c in people])
        Through = Session.consultants.through
        Through.objects.bulk_create([Through(session_id=s.pk, user_id=u.pk)
                                     for s, users in zip(sessions, consultants, strict=True) for u in users])
        Through = Session.kpis_discussed.through
        Through.objects.bulk_create([Through(session_id=s.pk, kpi_id=k.pk)
                                     for s, items in zip(sessions, discussed, strict=True) for k in items])
        self.created["sessions"] += len(sessions)

    def _milestones(self, engagement, era: Era, contacts):
        rnd = self.random
        milestones, comment_plans = [], []
        days_ago = era.since - 5
        while days_ago > max(era.until, 3):
            created = self.day(days_ago)
            phase = rnd.choice(Milestone.Phase.values)
            client_side = rnd.random() < era.client_proposes
            due = created + dt.timedelta(days=rnd.choice([21, 30, 45, 60]))
            milestone = Milestone(
                engagement=engagement, title=rnd.choice(MILESTONE_TITLES[phase]), phase=phase,
                description="Agreed scope, owners and what 'done' means for both sides.",
                due_date=due, proposed_by=Side.CLIENT if client_side else Side.CONSULTANT,
                consultant_owner=engagement.lead, client_owner=rnd.choice(contacts),
                shared_with_client=rnd.random() < 0.85, created_at=_aware(created, 11),
                position=len(milestones) + 1,
            )
            if due < self.today:
                if rnd.random() < era.on_time:
                    milestone.status = Milestone.Status.DONE
                    milestone.completed_at = _aware(due - dt.timedelta(days=rnd.randint(0, 5)), 16)
                elif rnd.random() < 0.5:
                    milestone.status = Milestone.Status.DONE
                    milestone.completed_at = _aware(min(self.today, due + dt.timedelta(days=rnd.randint(5, 20))), 16)
                else:
                    milestone.status = rnd.choice([Milestone.Status.IN_PROGRESS, Milestone.Status.BLOCKED])
            else:
                milestone.status = rnd.choice([Milestone.Status.AGREED, Milestone.Status.IN_PROGRESS])
            if milestone.shared_with_client and rnd.random() < era.client_approves:
                milestone.approved_at = _aware(created + dt.timedelta(days=rnd.randint(1, 6)), 10)
                milestone.approved_by = rnd.choice(contacts)
            milestones.append(milestone)
            comment_plans.append(created)
            days_ago -= max(5, round(rnd.gauss(era.milestone_every, era.milestone_every / 4)))
        Milestone.objects.bulk_create(milestones)
        client_users = {c.pk: c.user for c in contacts if c.user_id}
        comments = []
        for milestone, created in zip(milestones, comment_plans, strict=True):
            for index in range(rnd.randint(0, era.comments_per_milestone)):
                from_client = milestone.shared_with_client and rnd.random() < era.client_comments
                when = _aware(min(self.today, created + dt.timedelta(days=2 + index * 3)), 12 + index)
                comments.append(MilestoneComment(
                    milestone=milestone, side=Side.CLIENT if from_client else Side.CONSULTANT,
                    author=client_users.get(milestone.client_owner_id) if from_client else engagement.lead,
                    text=rnd.choice(CLIENT_COMMENTS if from_client else CONSULTANT_COMMENTS), created_at=when,
                ))
        MilestoneComment.objects.bulk_create(comments)
        self.created["milestones"] += len(milestones)

    def _feedback(self, engagement, era: Era, contacts):
        rnd = self.random
        responses = []
        for days_ago in range(era.since - 10, era.until, -30):
            when = _aware(self.day(days_ago), 17)
            rating = max(1, min(5, round(rnd.gauss(era.rating, 0.4))))
            responses.append(FeedbackResponse(
                engagement=engagement, side=Side.CLIENT, respondent_contact=contacts[0], submitted_at=when,
                rating=rating, involvement=max(1, min(5, rating + rnd.choice([-1, 0, 0]))),
                nps=max(0, min(10, rating * 2 + rnd.choice([-1, 0, 1]))),
                comment="" if rnd.random() < 0.6 else "Useful sessions, keep challenging us.",
            ))
            self_rating = era.self_rating if era.self_rating is not None else era.rating
            responses.append(FeedbackResponse(
                engagement=engagement, side=Side.CONSULTANT, respondent_user=engagement.lead, submitted_at=when,
                rating=max(1, min(5, round(rnd.gauss(self_rating, 0.3)))),
            ))
        FeedbackResponse.objects.bulk_create(responses)

    def _kpis(self, engagement, first_days_ago: int) -> list[KPI]:
        rnd = self.random
        kpis = [KPI.objects.create(engagement=engagement, name="Customer satisfaction", unit="/10",
                                   target=Decimal("8.5")),
                KPI.objects.create(engagement=engagement, name="Cost to serve", unit="€",
                                   target=Decimal("12.00"), direction=KPI.Direction.LOWER_IS_BETTER)]
        measurements = []
        for index, days_ago in enumerate(range(first_days_ago, 0, -30)):
            satisfaction = 7.0 + index * 0.1 + rnd.uniform(-0.2, 0.2)
            cost = 15.0 - index * 0.2 + rnd.uniform(-0.3, 0.3)
            day = self.day(days_ago)
            measurements.append(KPIMeasurement(kpi=kpis[0], date=day, value=Decimal(f"{satisfaction:.2f}")))
            measurements.append(KPIMeasurement(kpi=kpis[1], date=day, value=Decimal(f"{cost:.2f}")))
        KPIMeasurement.objects.bulk_create(measurements)
        return kpis

    def _calendar(self):
        """The demo consultant's calendar, with a few client meetings waiting to be confirmed (calendars/demo.py)."""
        seed_demo_calendar(owner=self.users[OWNER], today=self.today)

    def _waiting_for_client(self, engagement, contacts):
        """Give the demo client something to do in the portal: an approval and a pulse."""
        Milestone.objects.create(
            engagement=engagement, title="Omnichannel target model v2", phase=Milestone.Phase.REFLECTION,
            description="The target model after the store workshops. Please approve or ask for changes.",
            due_date=self.today + dt.timedelta(days=10), status=Milestone.Status.IN_PROGRESS,
            consultant_owner=engagement.lead, client_owner=contacts[0], shared_with_client=True,
            approval_requested=True, created_at=timezone.now() - dt.timedelta(days=2), position=999,
        )
        PulseRequest.objects.create(engagement=engagement, contact=contacts[0], requested_by=engagement.lead,
                                    sent_at=timezone.now() - dt.timedelta(days=1),
                                    expires_at=timezone.now() + dt.timedelta(days=13))
