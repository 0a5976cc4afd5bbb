"""Forms of the app store's pages: they parse and check the shape of what people type
(euros into integer cents, one item per line into lists); the services decide whether it is
allowed, and their errors come back as form errors."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.forms import MAX_CENTS, cents_of

from .models import AuditKind, Category, DeployAction, LegalBasis, TaskStatus, Verdict

POSTAL_CODE = re.compile(r"^\d{5}$")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
LIST_HELP = _("One per line.")


class EurosField(forms.DecimalField):
    """Euros as people type them: "1 500,50" in French (spaces between thousands)."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s\u00a0\u202f]", "", value)
        return super().to_python(value)


def fee_field(label, help_text) -> forms.DecimalField:
    """A fee typed in euros with at most two decimals (a comma in French); zero is free."""
    return EurosField(
        label=label,
        min_value=Decimal("0"),
        max_value=Decimal(MAX_CENTS) / 100,
        decimal_places=2,
        max_digits=13,
        localize=True,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


def lines_of(text: str) -> list[str]:
    """A textarea's non-empty lines, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _lines_field(label, *, required=False, help_text=LIST_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=7000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _user_lookup(value: str):
    """The account named by a username or an e-mail address, or None."""
    value = value.strip()
    users = get_user_model().objects.filter(Q(username=value) | Q(email__iexact=value))
    matches = list(users[:2])
    return matches[0] if len(matches) == 1 else None


class UserField(forms.CharField):
    """An existing account, typed as its username or e-mail address."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        user = _user_lookup(value)
        if user is None or not user.is_active:
            raise forms.ValidationError(_("No active account has this username or e-mail."))
        return user


# --- the app store --------------------------------------------------------------------------


class StoreFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("all categories"))] + list(Category.choices),
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {
            "category": self.cleaned_data.get("category") or None,
            "search": self.cleaned_data.get("q") or None,
        }


class DeployProposalForm(forms.Form):
    """A deploy, undeploy or upgrade proposal about a service version of the app store."""

    action = forms.ChoiceField(label=_("Action"), choices=DeployAction.choices)
    service_version = forms.CharField(label=_("Service version"), max_length=32)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- providers -----------------------------------------------------------------------------


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name of the organisation"), max_length=200)
    siret = forms.CharField(
        label=_("SIRET number"),
        max_length=20,
        help_text=_("The 14 digits of the establishment."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    website = forms.URLField(
        label=_("Website"), required=False, max_length=200, assume_scheme="https"
    )


class OperatorProviderForm(ProviderForm):
    owner = UserField(
        label=_("Owner's account"),
        help_text=_("Username or e-mail of the person whose DID signs for the organisation."),
    )

    field_order = ["owner", "name", "siret", "website"]


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("What it does"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    website = forms.URLField(
        label=_("Website"), required=False, max_length=200, assume_scheme="https"
    )
    logo_url = forms.URLField(
        label=_("Logo (address of an image)"), required=False, max_length=200, assume_scheme="https"
    )


class VersionForm(forms.Form):
    """A version: its GDPR Article 30 record of processing, the impact indicators it claims
    and its fees (in euros, stored as integer cents)."""

    label = forms.CharField(
        label=_("Version"),
        max_length=32,
        required=False,
        help_text=_("For example 1.0 (the version's number if left empty)."),
    )
    changelog = forms.CharField(
        label=_("What changed"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    purposes = forms.CharField(
        label=_("Purposes of the processing"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legal_basis = forms.ChoiceField(label=_("Legal basis"), choices=LegalBasis.choices)
    personal_data = _lines_field(
        _("Categories of personal data"),
        help_text=_("One per line, e.g. account identifier. Leave empty if none."),
    )
    data_subjects = _lines_field(
        _("Categories of data subjects"),
        help_text=_("One per line, e.g. users of the service. Needed when personal data is."),
    )
    recipients = _lines_field(_("Recipients"))
    retention = forms.CharField(
        label=_("Retention period"),
        max_length=300,
        help_text=_("For example: 13 months after the last use."),
    )
    transfers_outside_eu = forms.CharField(
        label=_("Transfers outside the EU and their safeguards"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave empty if none."),
    )
    impact_indicators = forms.CharField(
        label=_("Impact indicators"),
        max_length=500,
        help_text=_("SDG indicator ids, separated by commas or spaces, e.g. 11.2.1"),
    )
    deployment_fee = fee_field(
        _("Deployment fee (€)"),
        _("Paid once into the city's treasury when it deploys the service. E.g. 1500 or 1500,50."),
    )
    execution_fee = fee_field(
        _("Fee per execution (€)"),
        _("Paid into the city's treasury at each execution of the contract. E.g. 0,25."),
    )

    def service_arguments(self) -> dict:
        """The keyword arguments of `version_create` (cents, lists), from the cleaned data."""
        data = self.cleaned_data
        return {
            "label": data["label"],
            "changelog": data["changelog"],
            "purposes": data["purposes"],
            "legal_basis": data["legal_basis"],
            "personal_data": lines_of(data["personal_data"]),
            "data_subjects": lines_of(data["data_subjects"]),
            "recipients": lines_of(data["recipients"]),
            "retention": data["retention"],
            "transfers_outside_eu": data["transfers_outside_eu"],
            "impact_indicators": [
                code for code in re.split(r"[\s,;]+", data["impact_indicators"]) if code
            ],
            "deployment_fee_cents": cents_of(data["deployment_fee"]),
            "execution_fee_cents": cents_of(data["execution_fee"]),
        }


# --- the operator --------------------------------------------------------------------------


class AuditForm(forms.Form):
    kind = forms.ChoiceField(label=_("Review"), choices=AuditKind.choices, widget=forms.RadioSelect)
    verdict = forms.ChoiceField(
        label=_("Verdict"), choices=Verdict.choices, widget=forms.RadioSelect
    )
    findings = forms.CharField(
        label=_("Findings"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    reason = forms.CharField(
        label=_("Reason for the rejection"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the verdict is fail: the provider reads it."),
    )

    def clean(self):
        data = super().clean()
        if data.get("verdict") == Verdict.FAIL and not (data.get("reason") or "").strip():
            self.add_error("reason", _("A rejection says why."))
        return data


class CityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.CharField(
        label=_("Address (slug)"),
        max_length=64,
        help_text=_("Lower-case letters, digits and dashes: the city's pages live at /c/<slug>/."),
    )
    postal_codes = forms.CharField(
        label=_("Postal codes"),
        max_length=500,
        help_text=_(
            "The city's postal codes, separated by commas or spaces: residency is "
            "checked against them."
        ),
    )
    first_staff = UserField(
        label=_("First municipality staff member"),
        help_text=_("Username or e-mail of an existing account: appointed at once."),
    )

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        if not SLUG.match(slug):
            raise forms.ValidationError(_("Use lower-case letters, digits and dashes."))
        return slug

    def clean_postal_codes(self):
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["postal_codes"]) if c]
        if not codes:
            raise forms.ValidationError(_("Give at least one postal code."))
        wrong = [c for c in codes if not POSTAL_CODE.match(c)]
        if wrong:
            raise forms.ValidationError(
                _("A postal code has five digits: %(codes)s") % {"codes": ", ".join(wrong)}
            )
        return list(dict.fromkeys(codes))


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("all"))] + list(TaskStatus.choices),
    )
