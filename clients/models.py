import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

_DOMAIN = re.compile(r"(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class Client(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        FORMER = "former", _("Former")

    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    account_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_clients",
    )
    # Calendar import: an attendee at one of these domains is someone from this client, even when
    # they are not (yet) a contact. Contacts' own addresses are matched first.
    email_domains = models.CharField(
        _("registered e-mail domains"), max_length=500, blank=True,
        help_text=_("Domains of the client's e-mail addresses, separated by commas (e.g. acme.com, acme.fr). "
                    "Calendar meetings with someone at these domains are matched to this client."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Who changed what and when (django-simple-history).
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="client_name_ci_unique",
                                    violation_error_message=_("A client with this name already exists.")),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        domains = []
        for raw in self.email_domains.replace(";", ",").replace("\n", ",").split(","):
            domain = raw.strip().lower().lstrip("@")
            if not domain:
                continue
            if not _DOMAIN.fullmatch(domain):
                raise ValidationError(
                    {"email_domains": _("“%(domain)s” is not a domain name.") % {"domain": raw.strip()}})
            if domain not in domains:
                domains.append(domain)
        self.email_domains = ", ".join(domains)

    @property
    def domain_list(self) -> list[str]:
        return [d.strip() for d in self.email_domains.split(",") if d.strip()]


class Contact(models.Model):
    """A person at the client. ``is_sponsor`` marks the current sponsor (at most one per client);
    ``SponsorPeriod`` keeps who was sponsor when."""

    class Seniority(models.TextChoices):
        EXECUTIVE = "executive", _("Executive")
        SENIOR = "senior", _("Senior")
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="contacts")
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail address"))
    title = models.CharField(_("job title"), max_length=150, blank=True)
    seniority = models.CharField(_("seniority"), max_length=16, choices=Seniority.choices,
                                 default=Seniority.MANAGER)
    is_sponsor = models.BooleanField(_("current sponsor"), default=False)
    sponsor_since = models.DateField(_("sponsor since"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Cleared when the person leaves the company."))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Who changed what and when (django-simple-history).
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["client__name", "name"]
        constraints = [
            models.UniqueConstraint(
                "client", Lower("email"), name="contact_email_unique_per_client",
                violation_error_message=_("This client already has a contact with this e-mail address."),
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_sponsor=True), name="one_current_sponsor_per_client",
                violation_error_message=_("This client already has a current sponsor."),
            ),
            models.CheckConstraint(
                condition=Q(is_sponsor=False) | Q(sponsor_since__isnull=False),
                name="sponsor_has_since_date",
                violation_error_message=_("A sponsor needs a 'sponsor since' date."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.client})"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_executive(self):
        return self.seniority == self.Seniority.EXECUTIVE


class SponsorPeriod(models.Model):
    """One contact's time as the client's sponsor; ``end`` is empty for the current sponsor."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sponsor_periods")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sponsor_periods")
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        verbose_name = _("sponsor period")
        verbose_name_plural = _("sponsor history")
        ordering = ["client", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                                   name="sponsor_period_end_after_start"),
            models.UniqueConstraint(fields=["client"], condition=Q(end__isnull=True),
                                    name="one_open_sponsor_period_per_client"),
        ]
        indexes = [models.Index(fields=["client", "start"])]

    def __str__(self):
        return f"{self.contact.name}: {self.start} – {self.end or '…'}"
