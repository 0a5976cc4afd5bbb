"""Forms of the personal-data wallet (answering a consent request, erasing the account) and of
the staff's billing page (the city's creditor account)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ConsentAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("give", _("I consent")), ("refuse", _("I refuse"))],
        widget=forms.RadioSelect,
    )

    @property
    def give(self) -> bool:
        return self.cleaned_data["decision"] == "give"


class EraseForm(forms.Form):
    account_password = forms.CharField(
        label=_("Your account password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand: my account, my personal data and my records in datasets are erased "
            "for good, and my consents are withdrawn."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_account_password(self):
        password = self.cleaned_data["account_password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError(_("Your account password is not correct."))
        return password


class CreditorAccountForm(forms.Form):
    """The bank account the city's data invoices are paid into; the service checks the IBAN
    and BIC (schwifty) and that they make a valid SEPA file."""

    holder_name = forms.CharField(
        label=_("Account holder"),
        max_length=70,
        help_text=_("As the bank knows it, e.g. “Ville de Montpellier – régie des données”."),
    )
    iban = forms.CharField(
        label=_("IBAN"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    bic = forms.CharField(
        label=_("BIC"),
        max_length=11,
        required=False,
        help_text=_("Leave empty to use the BIC of the IBAN's bank, when it is known."),
    )
