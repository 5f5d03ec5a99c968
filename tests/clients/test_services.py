import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clients.models import Contact, SponsorPeriod
from clients.services import client_create, contact_create, contact_deactivate, contact_set_sponsor
from tests import factories

pytestmark = pytest.mark.django_db


def test_making_a_contact_sponsor_retires_the_previous_one_and_keeps_history():
    client = factories.ClientFactory()
    ceo = contact_create(client=client, name="Old Sponsor", email="ceo@acme.example", is_sponsor=True,
                         sponsor_since=dt.date(2025, 1, 1))
    cmo = contact_create(client=client, name="New CMO", email="cmo@acme.example")

    contact_set_sponsor(contact=cmo, since=dt.date(2026, 6, 1))

    ceo.refresh_from_db()
    assert not ceo.is_sponsor
    assert cmo.is_sponsor and cmo.sponsor_since == dt.date(2026, 6, 1)
    history = list(SponsorPeriod.objects.filter(client=client).order_by("start").values_list("contact__name", "start",
                                                                                             "end"))
    assert history == [("Old Sponsor", dt.date(2025, 1, 1), dt.date(2026, 5, 31)),
                       ("New CMO", dt.date(2026, 6, 1), None)]


def test_setting_the_current_sponsor_again_changes_nothing():
    contact = factories.ContactFactory()
    contact_set_sponsor(contact=contact, since=dt.date(2026, 1, 1))
    contact_set_sponsor(contact=contact, since=dt.date(2026, 3, 1))
    assert SponsorPeriod.objects.filter(contact=contact).count() == 1


def test_the_database_refuses_two_current_sponsors():
    client = factories.ClientFactory()
    factories.ContactFactory(client=client, is_sponsor=True, sponsor_since=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ContactFactory(client=client, is_sponsor=True, sponsor_since=dt.date(2026, 1, 1))


def test_an_email_already_used_at_the_client_is_refused_with_a_message():
    client = factories.ClientFactory()
    contact_create(client=client, name="A", email="same@acme.example")
    with pytest.raises(ValidationError) as error:
        contact_create(client=client, name="B", email="SAME@acme.example")
    assert "already has a contact with this e-mail" in str(error.value)
    assert Contact.objects.filter(client=client).count() == 1


def test_client_names_are_unique_whatever_the_case():
    client_create(name="Acme")
    with pytest.raises(ValidationError):
        client_create(name="ACME")


def test_a_contact_who_leaves_loses_sponsorship_and_portal_access():
    user = factories.ClientUserFactory()
    contact = user.contact
    contact_set_sponsor(contact=contact)
    contact_deactivate(contact=contact)
    contact.refresh_from_db()
    user.refresh_from_db()
    assert not contact.active and not contact.is_sponsor and not user.is_active
    assert SponsorPeriod.objects.get(contact=contact).end is not None
