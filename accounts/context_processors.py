from accounts.models import role_of


def role(request):
    """The signed-in user's role ("manager", "consultant", "client" or None) for the layout."""
    user = getattr(request, "user", None)
    return {"user_role": role_of(user) if user is not None else None}
