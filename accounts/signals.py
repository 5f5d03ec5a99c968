"""Signals of the identity app, for the apps above it that hold credentials of a user.

``password_changed`` is sent when a person's password was changed or reset (arguments: ``user``).
Whatever was issued with the old password (perhaps by whoever knew it) must stop working: the API
app revokes the user's tokens. A receiver returns how many credentials it revoked.
"""

from django.dispatch import Signal

password_changed = Signal()
