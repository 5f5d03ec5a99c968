"""Writes of the health engine."""


def request_rescore(*, engagement_id: int) -> None:
    """Queue a rescore of one engagement once the current transaction commits."""
    # Filled in by the health engine (issue 3): coalesced Celery task queued on commit.
    return None
