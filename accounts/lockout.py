"""Sign-in lockout (django-axes), with one change: a success clears only that account's failures.

Axes counts failures per e-mail address and per client address (``AXES_LOCKOUT_PARAMETERS``).
On a successful sign-in its database handler deletes every failure matching *either*, so one
good sign-in as oneself also wiped the client address's failures against other accounts: nine
guesses at a victim, one sign-in as oneself, repeat, and the address never locked (audit F2).
Here a success deletes only the failures recorded for the account that signed in; the address's
failures against other accounts stay and keep counting until they expire.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt


class AccountResetDatabaseHandler(AxesDatabaseHandler):
    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def username_of(request, credentials=None) -> str | None:
    """The e-mail address tried, as sign-in matches it (trimmed, lower-case).

    Sign-in ignores case, so the count must too: otherwise ``Victim@…``, ``vIctim@…`` and so on
    would each get their own ten guesses at the same account."""
    if credentials:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "data", request.POST).get("username") if request is not None else None
    return str(raw).strip().lower() if raw else None
