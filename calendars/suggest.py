"""What a calendar event's words suggest about the session it was: its focus and its channel.

Only a suggestion: the consultant sees it pre-filled and changes it when it is wrong. Keywords
are English and French, matched as whole words without accents or case ("Stratégie" = "strategie").
The title is read before the description: "KPI review" in the title wins over a description that
mentions the strategy.
"""

from __future__ import annotations

import re
import unicodedata

from engagements.models import Session

Focus = Session.Focus

# (focus, keywords): the first focus with a keyword in the text wins, in this order.
FOCUS_KEYWORDS = [
    (Focus.KPI_REVIEW, ["qbr", "kpi", "kpis", "monthly review", "quarterly review", "business review",
                        "dashboard review", "performance review", "revue mensuelle", "revue trimestrielle",
                        "bilan trimestriel", "bilan mensuel", "point mensuel", "indicateurs", "tableau de bord"]),
    (Focus.REPORTING, ["reporting", "report", "status update", "status report", "compte rendu", "rapport",
                       "point d'avancement", "suivi"]),
    (Focus.POSITIONING, ["positioning", "positionnement", "brand", "marque"]),
    (Focus.STRATEGY, ["strategy", "strategic", "strategie", "strategique", "roadmap", "feuille de route",
                      "vision"]),
    (Focus.CO_CREATION, ["workshop", "atelier", "co-creation", "cocreation", "co creation", "brainstorm",
                         "design sprint", "hackathon"]),
    (Focus.ADVISORY, ["advice", "advisory", "sounding board", "conseil", "avis", "recommendation",
                      "recommandation"]),
    (Focus.OPERATIONAL, ["stand-up", "standup", "daily", "operations", "operational", "operationnel",
                         "planning", "weekly sync"]),
    (Focus.ADMIN, ["invoice", "invoicing", "contract", "facture", "facturation", "contrat", "admin"]),
]

VIDEO_MARKERS = ["teams.microsoft.com", "zoom.us", "meet.google.com", "webex.com", "whereby.com",
                 "gotomeeting.com", "microsoft teams", "google meet", "visio", "visioconference"]
WORKSHOP_KEYWORDS = ["workshop", "atelier"]
CALL_KEYWORDS = ["call", "phone", "appel", "telephone", "conf call"]


def _plain(text: str) -> str:
    """Lower case without accents, so 'Stratégie' and 'strategie' read the same."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _pattern(words: list[str]) -> re.Pattern:
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w])")


_FOCUS_PATTERNS = [(focus, _pattern(words)) for focus, words in FOCUS_KEYWORDS]
_WORKSHOP = _pattern(WORKSHOP_KEYWORDS)
_CALL = _pattern(CALL_KEYWORDS)


def suggest_focus(title: str, description: str = "") -> str:
    """The focus the words suggest, or "" when they say nothing (the consultant chooses)."""
    for text in (_plain(title), _plain(description)):
        for focus, pattern in _FOCUS_PATTERNS:
            if pattern.search(text):
                return focus
    return ""


def suggest_channel(title: str, description: str = "", location: str = "") -> str:
    """Workshop, video (a meeting link), call, else an in-person meeting."""
    plain_title = _plain(title)
    if _WORKSHOP.search(plain_title):
        return Session.Channel.WORKSHOP
    everything = " ".join(_plain(text) for text in (title, description, location))
    if any(marker in everything for marker in VIDEO_MARKERS):
        return Session.Channel.VIDEO
    if _CALL.search(plain_title):
        return Session.Channel.CALL
    return Session.Channel.MEETING
