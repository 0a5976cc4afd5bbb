"""The profile page: my DIDs and keys, my credentials, my ledger history, key export."""

from __future__ import annotations

import hashlib
import json

from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from ledger.errors import LedgerError

from . import crypto, selectors
from .actions import AttestDocument
from .errors import NotYourIdentity
from .forms import AttestForm, KeyExportForm, NotificationSettingsForm
from .models import Custody
from .services import credential_revoke, identity_owned
from .signed_actions import action_execute


@login_required
def profile(request):
    user = request.user
    return render(
        request,
        "identity/profile.html",
        {
            "identities": selectors.identities_of(user=user),
            "credentials": selectors.credentials_of(user=user),
            "issued": selectors.credentials_issued_by(user=user),
            "attestations": selectors.attestations_of(user=user),
            "history": selectors.ledger_history_of(user=user),
            "export_form": KeyExportForm(),
            "attest_form": AttestForm(),
            "has_token": Token.objects.filter(user=user).exists(),
            "notification_form": NotificationSettingsForm(instance=user),
        },
    )


@login_required
@require_POST
def notification_settings(request):
    """How the account is told about votes. Account plumbing, not a civic act: nothing is
    signed and no ledger entry is written, like a password change."""
    form = NotificationSettingsForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, _("Your notification settings are saved."))
    else:
        messages.error(request, _("Choose one of the notification settings."))
    return redirect("identity:profile")


@login_required
def key_export(request):
    """Exporting a private key re-authenticates: the account password is typed again, with
    allauth's rate limit on re-authentication (so a stolen session cannot guess it)."""
    form = KeyExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="reauthenticate", user=request.user):
            form.add_error(None, _("Too many attempts: wait a minute, then try again."))
        elif not request.user.check_password(form.cleaned_data["account_password"]):
            form.add_error("account_password", _("Your account password is not correct."))
        else:
            try:
                identity = identity_owned(user=request.user, did=form.cleaned_data["did"])
            except LedgerError as error:
                form.add_error(None, error.message)
            else:
                if identity.custody != Custody.CUSTODIAL:
                    form.add_error(None, _("This key is self-custody: you already hold it."))
                else:
                    return _export_response(identity, form.cleaned_data)
    return render(
        request,
        "identity/key_export.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _export_response(identity, data) -> HttpResponse:
    key = identity.private_key()
    name = identity.did.rsplit(":", 1)[-1][:16]
    if data["key_format"] == "jwk":
        body = json.dumps(crypto.export_jwk(key, did=identity.did), indent=2)
        response = HttpResponse(body, content_type="application/jwk+json")
        response["Content-Disposition"] = f'attachment; filename="{name}.jwk.json"'
    else:
        body = crypto.export_pkcs8_pem(key, password=data["passphrase"])
        response = HttpResponse(body, content_type="application/pkcs8")
        response["Content-Disposition"] = f'attachment; filename="{name}.p8.pem"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def attest(request):
    form = AttestForm(request.POST, request.FILES)
    if form.is_valid():
        sha = hashlib.sha256()
        for chunk in form.cleaned_data["document"].chunks():
            sha.update(chunk)
        identity = request.user.primary_identity
        try:
            if identity is None:
                raise NotYourIdentity(_("Your account has no active DID."))
            attestation = action_execute(
                AttestDocument(),
                user=request.user,
                data={"did": identity.did, "digest": sha.hexdigest()},
            )
        except LedgerError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Attested: transaction %(index)s on the %(chain)s chain.")
                % {"index": attestation.entry.index, "chain": attestation.entry.chain.slug},
            )
    else:
        messages.error(request, _("Choose a document to attest."))
    return redirect("identity:profile")


@login_required
@require_POST
@reauthentication_required
def token_create(request):
    """A fresh API token (the old one stops working); shown once. A token acts for the whole
    account, so, as for an e-mail change, a session without a recent password proof is sent
    to re-authenticate first, and the request is carried out after it."""
    Token.objects.filter(user=request.user).delete()
    token = Token.objects.create(user=request.user)
    messages.success(request, _("Your new API token (shown once): %(key)s") % {"key": token.key})
    return redirect("identity:profile")


@login_required
def credential_download(request, public_id: str):
    credential = selectors.credential_get_for_user(user=request.user, public_id=public_id)
    response = JsonResponse(credential.document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="credential-{public_id}.json"'
    return response


@login_required
@require_POST
def credential_revoke_view(request, public_id: str):
    credential = selectors.credential_get_for_user(user=request.user, public_id=public_id)
    try:
        # Only the issuer's account revokes (the subject may see the credential too).
        by = identity_owned(user=request.user, did=credential.issuer.did)
        credential_revoke(credential=credential, by=by, reason="revoked")
    except LedgerError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Credential revoked."))
    return redirect("identity:profile")
