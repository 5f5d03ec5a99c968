"""Pages to set up, use and manage two-factor authentication."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import mfa
from accounts.security_log import security_event


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"), max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@login_required
def mfa_settings(request):
    """Two-factor status, and the ways to set it up, renew recovery codes or turn it off."""
    return render(request, "accounts/mfa_settings.html", {
        "enabled": mfa.mfa_enabled(request.user), "required": mfa.mfa_required(request.user)})


@login_required
def mfa_setup(request):
    """Scan a QR code, type the app's code: the authenticator is confirmed, recovery codes shown once."""
    device = mfa.mfa_pending_device(user=request.user)
    if request.method == "POST" and device is not None:
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.mfa_confirm_enrolment(user=request.user, device=device, token=form.cleaned_data["token"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("token", message)
            else:
                otp_login(request, device)
                security_event("mfa_enabled", request=request, user_id=request.user.pk)
                return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    else:
        device = mfa.mfa_start_enrolment(user=request.user)
        form = CodeForm()
    return render(request, "accounts/mfa_setup.html", {
        "form": form, "qr_svg": mfa.mfa_qr_svg(device), "secret": mfa.mfa_secret(device),
        "required": mfa.mfa_required(request.user), "next": _next_url(request, "")})


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


@login_required
@require_POST
def mfa_recovery_codes(request):
    """New recovery codes, shown once; the old ones stop working."""
    try:
        codes = mfa.mfa_regenerate_recovery_codes(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:mfa")
    return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": ""})


@login_required
@require_POST
def mfa_disable(request):
    try:
        mfa.mfa_disable(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        security_event("mfa_disabled", request=request, user_id=request.user.pk)
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:mfa")
