import secrets

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import encryption


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    CONSULTANT = "consultant", _("Consultant")
    CLIENT = "client", _("Client contact")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("is_manager", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # E-mail addresses are stored lower-case, so logins are case-insensitive.
        return self.get(**{self.model.USERNAME_FIELD: username.lower()})


class User(AbstractUser):
    """A person who signs in. Consultants and managers work for the firm; a client user is linked
    to a ``clients.Contact`` (``user.contact``)."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    is_consultant = models.BooleanField(
        _("consultant"), default=False, help_text=_("Staffs engagements and logs sessions.")
    )
    is_manager = models.BooleanField(
        _("manager"), default=False, help_text=_("Sees the whole portfolio and handles flags.")
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("Pages and e-mails in this language; empty for the site's default. "
                    "Set by the language menu."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def preferred_language(self) -> str:
        """The language to write to this person in (pages and e-mails): their choice, else the site's."""
        return self.language or settings.LANGUAGE_CODE

    @cached_property
    def client_contact(self):
        """The active client contact this user signs in as, or None for firm staff."""
        contact = getattr(self, "contact", None)
        if contact is None or not contact.active:
            return None
        return contact

    @property
    def role(self):
        """The role that decides what the user sees; a superuser counts as a manager."""
        if self.is_manager or self.is_superuser:
            return Role.MANAGER
        if self.is_consultant:
            return Role.CONSULTANT
        if self.client_contact is not None:
            return Role.CLIENT
        return None

    @property
    def is_firm_staff(self):
        return self.role in (Role.MANAGER, Role.CONSULTANT)


def role_of(user) -> Role | None:
    """The user's role, or None for anonymous and inactive users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.role


# --- Two-factor devices (accounts/mfa.py), with their secrets protected at rest -------------------

class AuthenticatorManager(DeviceManager):
    def create_for(self, *, user, name: str, confirmed: bool = False) -> "Authenticator":
        """A new authenticator with a fresh random 160-bit seed, stored encrypted."""
        return self.create(user=user, name=name, confirmed=confirmed,
                           encrypted_key=encryption.encrypt(secrets.token_bytes(20)))


class Authenticator(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app. Its seed is kept encrypted (accounts/encryption.py), never in clear.

    The TOTP rules (30 s steps, one step of tolerance, drift, no code accepted twice, slowing
    down after wrong codes) are django-otp's ``TOTPDevice``'s, whose methods are reused as they
    are: only where the seed lives differs (its ``key`` column holds it in clear).
    """

    encrypted_key = models.TextField(_("encrypted seed"))
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    objects = AuthenticatorManager()

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self) -> bytes:
        return encryption.decrypt(self.encrypted_key)

    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


def normalise_recovery_code(token: str) -> str:
    return (token or "").strip().lower().replace(" ", "").replace("-", "")


class RecoveryCodeSet(TimestampMixin, ThrottlingMixin, Device):
    """A user's single-use recovery codes. Only salted hashes of them are kept (ASVS 6.5.2)."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        token = normalise_recovery_code(token)
        match = next((code for code in self.codes.all() if check_password(token, code.code_hash)), None) \
            if token else None
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One recovery code, as a password hash (the default hasher: Argon2id in production)."""

    device = models.ForeignKey(RecoveryCodeSet, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=256)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self):
        return f"{self.device} #{self.pk}"
