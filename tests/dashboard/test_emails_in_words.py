"""Flag e-mails say what changed in words, in each recipient's language: the sentence first, the key
figure big, the numbers folded below. Early signs below a flag (the watch level) are never e-mailed."""

import pytest
from django.core import mail
from django.utils import translation
from django.utils.html import escape

from dashboard.tasks import weekly_digests
from health import evidence, notifications
from tests import factories
from tests.dashboard.conftest import TODAY
from tests.evidence_samples import CADENCE_EVIDENCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def high_flag(consultant):
    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios", title="Brand positioning")
    return factories.FlagFactory(engagement=engagement, kind="cadence_drop", severity="high",
                                 evidence=CADENCE_EVIDENCE, raised_on=TODAY)


def in_language(language, flag):
    with translation.override(language):
        return (evidence.flag_summary(flag.kind, flag.evidence), evidence.key_figure(flag.kind, flag.evidence),
                evidence.evidence_details(flag.kind, flag.evidence))


def test_each_recipient_reads_the_flag_in_their_language(high_flag, consultant, manager):
    consultant.language = "fr"
    consultant.save()
    assert notifications.notify_flags_raised([high_flag.pk]) == 2
    messages = {m.to[0]: m for m in mail.outbox}
    for person, language in ((manager, "en"), (consultant, "fr")):
        message = messages[person.email]
        summary, (figure, caption), details = in_language(language, high_flag)
        text, html = message.body, message.alternatives[0][0]
        assert summary in text and figure in text and caption in text
        label, value = details[0]
        assert f"- {label}: {value}" in text
        # The sentence comes before the numbers.
        assert text.index(summary) < text.index(f"- {label}: {value}")
        assert escape(summary) in html and escape(figure) in html
        assert html.index(escape(summary)) < html.index("<details>") < html.index(escape(label))
    assert in_language("en", high_flag)[0] != in_language("fr", high_flag)[0]
    assert "Les chiffres" in messages[consultant.email].body


def test_the_weekly_digest_tells_each_new_flag_in_words(high_flag, manager):
    manager.language = "fr"
    manager.save()
    assert weekly_digests(today=TODAY) == 1
    summary = in_language("fr", high_flag)[0]
    assert summary in mail.outbox[0].body and escape(summary) in mail.outbox[0].alternatives[0][0]


def test_a_scoring_run_that_puts_an_engagement_on_watch_emails_nobody(consultant, manager, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    """The watch level is for the pages: whatever sign the rules see, a run that stores one sends no e-mail
    (only a new high flag does). The rules are the engine's; here every assessment carries a sign."""
    from health import scoring
    from health.models import EngagementHealth, Flag, HealthSnapshot
    from health.services import score_engagements
    from tests.evidence_samples import WATCH_ITEM

    engagement = factories.EngagementFactory(lead=consultant, client__name="Helios")
    factories.SessionFactory(engagement=engagement)
    assess = scoring.assess

    def assess_with_a_sign(*args, **kwargs):
        assessment = assess(*args, **kwargs)
        assessment.watch = [WATCH_ITEM]
        return assessment

    monkeypatch.setattr(scoring, "assess", assess_with_a_sign)
    with django_capture_on_commit_callbacks(execute=True):
        score_engagements(engagement_ids=[engagement.pk], as_of=TODAY)
    assert HealthSnapshot.objects.get(engagement=engagement).watch == [WATCH_ITEM]
    assert EngagementHealth.objects.get(engagement=engagement).watch_count == 1
    assert not Flag.objects.filter(severity="high").exists()
    assert notifications.notify_pending_flags() == 0
    assert mail.outbox == []
