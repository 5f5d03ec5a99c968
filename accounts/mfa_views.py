"""Pages to set up, use and manage two-factor authentication.

Every page but the verify step needs the second factor already given in this session when the
user has an authenticator (``second_factor_given``, on top of ``MfaMiddleware``); the pages that
change the factors also ask for a code in their own form (``accounts.mfa``).
"""

import functools
import time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import mfa
from accounts.security_log import security_event

# The unconfirmed authenticator this session started, and when: only that one can be confirmed
# here, and only for a while, so a set-up left half-way in an unattended browser expires.
PENDING_DEVICE = "_rapport_mfa_pending_device"
ENROLMENT_WINDOW_SECONDS = 10 * 60


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"), max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class CurrentCodeForm(forms.Form):
    """A code from the authenticator the user has now (or a recovery code), to change the factors."""

    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"), max_length=16,
        help_text=gettext_lazy("Or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class DisableForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    token = CurrentCodeForm.base_fields["token"]


def _next_url(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def second_factor_given(view):
    """A user with an authenticator must have given a code in this session before reaching ``view``.

    ``MfaMiddleware`` already holds such sessions at the verify step; this keeps the two-factor
    pages closed even for a session it lets through (one that signed in before the authenticator
    was added elsewhere, or a change to the middleware's list of open paths)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if mfa.mfa_enabled(request.user) and not request.user.is_verified():
            return redirect(f"{reverse('accounts:mfa_verify')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _settings_page(request, *, codes_form=None, disable_form=None, status=200):
    return render(request, "accounts/mfa_settings.html", {
        "enabled": mfa.mfa_enabled(request.user), "required": mfa.mfa_required(request.user),
        "codes_form": codes_form or CurrentCodeForm(prefix="codes"),
        "disable_form": disable_form or DisableForm(prefix="disable"),
    }, status=status)


@second_factor_given
def mfa_settings(request):
    """Two-factor status, and the ways to set it up, renew recovery codes or turn it off."""
    return _settings_page(request)


def _pending_device(request):
    """The unconfirmed authenticator this session started, if still within its window."""
    pending = request.session.get(PENDING_DEVICE)
    if not pending or time.time() - pending.get("at", 0) > ENROLMENT_WINDOW_SECONDS:
        return None
    device = mfa.mfa_pending_device(user=request.user)
    return device if device is not None and device.pk == pending.get("id") else None


@second_factor_given
def mfa_setup(request):
    """Set up an authenticator, or move to a new phone: start (POST), scan the QR code, type the
    app's code; the authenticator is confirmed and recovery codes are shown once.

    A GET only shows the current step: it never creates or replaces anything. Moving to a new
    phone starts with a code from the current one, and the current one works until the new one
    is confirmed."""
    device = _pending_device(request)
    replacing = mfa.mfa_enabled(request.user)
    start_form = CurrentCodeForm(prefix="current") if replacing else None
    form = CodeForm()
    if request.method == "POST" and request.POST.get("step") == "start":
        start_form = CurrentCodeForm(request.POST, prefix="current") if replacing else None
        if start_form is None or start_form.is_valid():
            try:
                device = mfa.mfa_start_enrolment(user=request.user,
                                                 token=start_form.cleaned_data["token"] if start_form else "")
            except ValidationError as error:
                _apply_errors(start_form, error)
                security_event("mfa_step_up_failed", request=request, user_id=request.user.pk, action="setup")
            else:
                request.session[PENDING_DEVICE] = {"id": device.pk, "at": int(time.time())}
                next_url = _next_url(request, "")
                return redirect(f"{reverse('accounts:mfa_setup')}?{urlencode({'next': next_url})}"
                                if next_url else reverse("accounts:mfa_setup"))
        device = None
    elif request.method == "POST" and device is not None:
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.mfa_confirm_enrolment(user=request.user, device=device, token=form.cleaned_data["token"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("token", message)
            else:
                request.session.pop(PENDING_DEVICE, None)
                otp_login(request, device)
                security_event("mfa_enabled", request=request, user_id=request.user.pk, replaced=replacing)
                return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    return render(request, "accounts/mfa_setup.html", {
        "device": device, "form": form, "start_form": start_form, "replacing": replacing,
        "qr_svg": mfa.mfa_qr_svg(device) if device else "", "secret": mfa.mfa_secret(device) if device else "",
        "required": mfa.mfa_required(request.user), "next": _next_url(request, "")},
        status=400 if request.method == "POST" else 200)


@login_required
def mfa_verify(request):
    """The second step of signing in: a code from the app, or a recovery code."""
    if request.user.is_verified() or not mfa.mfa_enabled(request.user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.mfa_verify(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            security_event("mfa_verified", request=request, user_id=request.user.pk,
                           method=device.__class__.__name__)
            return redirect(_next_url(request))
        security_event("mfa_failed", request=request, user_id=request.user.pk)
        form.add_error("token", _("That code is not valid. Use the newest code from your app, or a recovery code."))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request, "")})


@second_factor_given
@require_POST
def mfa_recovery_codes(request):
    """New recovery codes, given a current code; shown once, and the old ones stop working."""
    form = CurrentCodeForm(request.POST, prefix="codes")
    if form.is_valid():
        try:
            codes = mfa.mfa_regenerate_recovery_codes(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as error:
            _apply_errors(form, error)
            security_event("mfa_step_up_failed", request=request, user_id=request.user.pk, action="recovery_codes")
        else:
            security_event("mfa_recovery_codes_renewed", request=request, user_id=request.user.pk)
            return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": ""})
    return _settings_page(request, codes_form=form, status=400)


@second_factor_given
@require_POST
def mfa_disable(request):
    """Turn two-factor off, given the password and a current code."""
    form = DisableForm(request.POST, prefix="disable")
    if form.is_valid():
        try:
            mfa.mfa_disable(user=request.user, password=form.cleaned_data["password"],
                            token=form.cleaned_data["token"])
        except ValidationError as error:
            _apply_errors(form, error)
            security_event("mfa_step_up_failed", request=request, user_id=request.user.pk, action="disable")
        else:
            security_event("mfa_disabled", request=request, user_id=request.user.pk)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:mfa")
    return _settings_page(request, disable_form=form, status=400)
