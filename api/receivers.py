"""What the API does when identity changes below it (accounts/signals.py): accounts cannot import
the API, which builds on it."""

from django.dispatch import receiver

from accounts.signals import password_changed
from api.models import ApiToken


@receiver(password_changed, dispatch_uid="api.revoke_tokens")
def revoke_tokens(sender, *, user, **_kwargs) -> int:
    """A token issued with the old password stops working; returns how many there were."""
    count, _ = ApiToken.objects.filter(user=user).delete()
    return count
