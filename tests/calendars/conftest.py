"""A small firm whose contacts and domains the calendar files of ``fixtures/own`` talk about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
# The calendar files of fixtures/own describe January to April 2026; the tests read them on this day.
NOW = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)


def ics(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Firm:
    consultant: object
    colleague: object
    acme_strategy: object   # Acme, since 2025: every Acme meeting fits it
    acme_pricing: object    # Acme, since 1 March 2026: later Acme meetings fit both, the consultant picks
    initech: object          # Initech: no contact in the calendar, only its registered domain
    sam: object
    nina: object


@pytest.fixture
def firm(consultant, other_consultant):
    acme = factories.ClientFactory(name="Acme", email_domains="acme.example")
    sam = factories.ContactFactory(client=acme, name="Sam Sponsor", email="sam@acme.example")
    nina = factories.ContactFactory(client=acme, name="Nina Novak", email="nina@acme.example")
    strategy = factories.EngagementFactory(client=acme, title="Acme strategy", lead=consultant,
                                           start=dt.date(2025, 1, 6), team=[other_consultant])
    pricing = factories.EngagementFactory(client=acme, title="Acme pricing", lead=consultant,
                                          start=dt.date(2026, 3, 1))
    initech = factories.EngagementFactory(client__name="Initech", client__email_domains="initech.example",
                                         title="Initech entry", lead=consultant, start=dt.date(2025, 6, 1))
    return Firm(consultant=consultant, colleague=other_consultant, acme_strategy=strategy, acme_pricing=pricing,
                initech=initech, sam=sam, nina=nina)
