"""Writes on clients and their people."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clients.models import Client, Contact, SponsorPeriod


def client_create(*, name: str, industry: str = "", status: str = Client.Status.ACTIVE,
                  account_lead=None) -> Client:
    """Create a client after validating it."""
    client = Client(name=name.strip(), industry=industry.strip(), status=status, account_lead=account_lead)
    client.full_clean()
    client.save()
    return client


def contact_create(*, client: Client, name: str, email: str, title: str = "",
                   seniority: str = Contact.Seniority.MANAGER, is_sponsor: bool = False,
                   sponsor_since: dt.date | None = None) -> Contact:
    """Create a contact; making them sponsor retires the previous sponsor."""
    with transaction.atomic():
        contact = Contact(client=client, name=name.strip(), email=email.strip().lower(), title=title.strip(),
                          seniority=seniority)
        contact.full_clean()
        contact.save()
        if is_sponsor:
            contact_set_sponsor(contact=contact, since=sponsor_since)
    return contact


def contact_update(*, contact: Contact, **fields) -> Contact:
    """Change a contact's details (not the sponsorship: see ``contact_set_sponsor``)."""
    for name in ("name", "email", "title", "seniority"):
        if name in fields:
            setattr(contact, name, fields[name])
    contact.full_clean()
    contact.save()
    return contact


def contact_set_sponsor(*, contact: Contact, since: dt.date | None = None) -> Contact:
    """Make ``contact`` the client's sponsor from ``since`` (today by default).

    The previous sponsor is retired and their period closed the day before, so the history says
    who was sponsor on any given day.
    """
    since = since or timezone.localdate()
    with transaction.atomic():
        # Lock the client row so two simultaneous sponsor changes are applied one after the other.
        Client.objects.select_for_update().get(pk=contact.client_id)
        if contact.is_sponsor and Contact.objects.filter(pk=contact.pk, is_sponsor=True).exists():
            return contact
        previous = Contact.objects.filter(client_id=contact.client_id, is_sponsor=True).exclude(pk=contact.pk)
        previous.update(is_sponsor=False)
        open_periods = SponsorPeriod.objects.filter(client_id=contact.client_id, end__isnull=True)
        for period in open_periods:
            period.end = max(period.start, since - dt.timedelta(days=1))
            period.save(update_fields=["end"])
        contact.is_sponsor = True
        contact.sponsor_since = since
        contact.save(update_fields=["is_sponsor", "sponsor_since"])
        SponsorPeriod.objects.create(client_id=contact.client_id, contact=contact, start=since)
    return contact


def contact_deactivate(*, contact: Contact) -> Contact:
    """Record that the contact left the company: no more sponsorship and no more portal access."""
    today = timezone.localdate()
    with transaction.atomic():
        if contact.is_sponsor:
            SponsorPeriod.objects.filter(contact=contact, end__isnull=True).update(end=today)
            contact.is_sponsor = False
        contact.active = False
        contact.save(update_fields=["active", "is_sponsor"])
        if contact.user_id:
            contact.user.is_active = False
            contact.user.save(update_fields=["is_active"])
    return contact
