from django import forms
from django.utils.translation import gettext_lazy as _

from .models import User


class KeyExportForm(forms.Form):
    FORMATS = [("pkcs8", _("PKCS#8 (PEM), protected by a passphrase")), ("jwk", _("JWK (JSON)"))]

    did = forms.CharField(widget=forms.HiddenInput)
    key_format = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="pkcs8")
    account_password = forms.CharField(
        label=_("Your account password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    passphrase = forms.CharField(
        label=_("Passphrase protecting the exported file (PKCS#8)"),
        required=False,
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("key_format") == "pkcs8" and not data.get("passphrase"):
            self.add_error(
                "passphrase", _("A PKCS#8 export needs a passphrase of 8 characters or more.")
            )
        return data


class AttestForm(forms.Form):
    document = forms.FileField(
        label=_("Document"),
        help_text=_("The file is hashed on the server and not kept: only its SHA-256 is recorded."),
    )


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notification_mode"]
        widgets = {"notification_mode": forms.RadioSelect}
        help_texts = {
            "notification_mode": _(
                "When a vote opens in your city and when a vote you took part in closes."
            )
        }
