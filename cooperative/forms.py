"""Forms of the cooperative pages: they check the shape of what people type; the services
decide whether it is allowed, and their errors come back as form errors."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.forms import clean_did, did_field

from .services import MAX_SHARES_PER_MOVEMENT


def shares_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Number of shares"), min_value=1, max_value=MAX_SHARES_PER_MOVEMENT
    )


def horizon_field(help_text=None) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Commitment horizon (years)"),
        min_value=0,
        max_value=99,
        initial=0,
        help_text=help_text
        or _("How long you commit to keep these shares: a longer commitment weighs more."),
    )


class SubscribeForm(forms.Form):
    shares = shares_field()
    horizon_years = horizon_field()
    college = forms.ChoiceField(
        label=_("College you ask to join"),
        required=False,
        help_text=_("Newcomers only: the board (or a vote, as the rules say) admits you."),
    )

    def __init__(self, *args, colleges=(), newcomer: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if newcomer:
            self.fields["college"].choices = [("", "—")] + [
                (college.slug, college.label) for college in colleges
            ]
            self.fields["college"].required = True
        else:
            del self.fields["college"]


class TransferForm(forms.Form):
    to_did = did_field(_("To the member (DID)"), _("The DID of the member who receives them."))
    shares = shares_field()
    horizon_years = forms.TypedChoiceField(label=_("From my holding"), coerce=int)

    def __init__(self, *args, holdings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["horizon_years"].choices = [
            (
                h.horizon_years,
                _("%(years)s-year commitment (%(shares)s shares)")
                % {"years": h.horizon_years, "shares": h.shares},
            )
            for h in holdings
        ]

    def clean_to_did(self):
        return clean_did(self.cleaned_data["to_did"])


class WithdrawForm(forms.Form):
    shares = shares_field()
    horizon_years = forms.TypedChoiceField(label=_("From my holding"), coerce=int)

    def __init__(self, *args, holdings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["horizon_years"].choices = [
            (
                h.horizon_years,
                _("%(years)s-year commitment (%(shares)s shares)")
                % {"years": h.horizon_years, "shares": h.shares},
            )
            for h in holdings
        ]


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"))
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    parameters = forms.CharField(
        label=_("Parameters (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "spellcheck": "false"}),
        help_text=_(
            'For example, to approve the accounts: {"year": 2025, "result_cents": 1234567, '
            '"accounts_digest": "<SHA-256 of the accounts>"}.'
        ),
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)

    def clean_parameters(self):
        text = self.cleaned_data["parameters"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The parameters are not valid JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The parameters are a JSON object."))
        return value
