from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


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
