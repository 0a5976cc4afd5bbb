"""Forms of the impact pages: they parse and check the shape of what people type
(quantities as whole numbers of a class's smallest unit, euros into integer cents, a
methodology's measured values as decimal text); the services decide whether it is allowed,
and their errors come back as form errors."""

from __future__ import annotations

import json
from datetime import date

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from governance.forms import cents_of, euros_field

from .models import (
    ClaimState,
    Decision,
    MerchantSettlement,
    Methodology,
    ParameterKind,
    RejectReason,
    RetireReason,
    TokenClass,
)

MAX_QUANTITY = 10**15
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def quantity_field(label, *, required: bool = True, minimum: int = 1, help_text="") -> forms.Field:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=MAX_QUANTITY,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class TokenClassField(forms.ModelChoiceField):
    """A token class, named in the reader's language with its smallest unit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", TokenClass.objects.order_by("code"))
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("label", _("Token class"))
        super().__init__(**kwargs)

    def label_from_instance(self, token_class: TokenClass) -> str:
        return f"{token_class.name} ({token_class.smallest_unit})"


class Ids:
    """Several forms share a page: each names its fields' ids after itself
    (`id_prefix`), so that no two fields of a page have the same id."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def _english() -> bool:
    return (translation.get_language() or "fr")[:2] == "en"


QUANTITY_HELP = _("A whole number of the class's smallest unit (e.g. kg CO2e).")


# --- claims -------------------------------------------------------------------------------


class ClaimFilterForm(Ids, forms.Form):
    id_prefix = "claims-filter"

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("all states"))] + list(ClaimState.choices),
    )

    def state_value(self) -> str | None:
        return (self.cleaned_data.get("state") or None) if self.is_valid() else None


class MethodologyField(forms.ModelChoiceField):
    def label_from_instance(self, methodology: Methodology) -> str:
        return f"{methodology.title} — {methodology.indicator.code} (v{methodology.version})"


class MethodologyChoiceForm(forms.Form):
    """Step one of a claim: which methodology measures it (its parameters follow)."""

    methodology = MethodologyField(
        label=_("Methodology"),
        queryset=Methodology.objects.none(),
        to_field_name="public_id",
        empty_label=_("choose a methodology"),
    )

    def __init__(self, *args, methodologies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if methodologies is not None:
            self.fields["methodology"].queryset = methodologies


class DecimalText(forms.CharField):
    """A measured value as people type it ("12,5" or "12.5"), kept as decimal text: the
    methodology checks kinds and bounds."""

    def clean(self, value):
        value = super().clean(value)
        text = (value or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        return text


class ClaimForm(forms.Form):
    """A claim measured with one methodology: its parameters (one field each), the period,
    the district and, optionally, one file of evidence."""

    period_start = forms.DateField(
        label=_("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))
    district = forms.CharField(
        label=_("District"),
        required=False,
        max_length=32,
        help_text=_("A district code of the city, e.g. centre or ecusson."),
    )
    evidence_type = forms.ChoiceField(label=_("Kind of evidence"), required=False, choices=())
    evidence = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("At most 5 MB. Its SHA-256 goes on the ledger; the file stays private."),
    )
    submit = forms.BooleanField(
        label=_("Send it to the curators now"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, methodology: Methodology, **kwargs):
        super().__init__(*args, **kwargs)
        self.methodology = methodology
        language_en = _english()
        for parameter in methodology.parameters.all():
            label = parameter.label_en if language_en else parameter.label_fr
            self.fields[f"p_{parameter.name}"] = DecimalText(
                label=f"{label} ({parameter.unit})",
                max_length=40,
                help_text=_("A whole number.")
                if parameter.kind == ParameterKind.INTEGER
                else _("A number, e.g. 12,5."),
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
        types = [
            (t.code, t.title_en if language_en else t.title_fr)
            for requirement in methodology.requirements.all()
            for t in requirement.evidence_types.all()
            if t.kind == "file"
        ]
        self.fields["evidence_type"].choices = [("", "—")] + types
        self.order_fields([f"p_{p.name}" for p in methodology.parameters.all()])

    def parameter_fields(self):
        return [self[name] for name in self.fields if name.startswith("p_")]

    def parameters(self) -> dict[str, str]:
        return {
            name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("p_")
        }

    def clean(self):
        data = super().clean()
        if data.get("evidence") and not data.get("evidence_type"):
            self.add_error("evidence_type", _("Say what the file proves."))
        upload = data.get("evidence")
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            self.add_error("evidence", _("A file of evidence is at most 5 MB."))
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class EvidenceForm(forms.Form):
    evidence_type = forms.ChoiceField(label=_("Kind of evidence"), choices=())
    evidence = forms.FileField(label=_("File"))

    def __init__(self, *args, evidence_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        language_en = _english()
        self.fields["evidence_type"].choices = [
            (t.code, t.title_en if language_en else t.title_fr) for t in evidence_types
        ]

    def clean_evidence(self):
        upload = self.cleaned_data["evidence"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("A file of evidence is at most 5 MB."))
        return upload


class VerifyForm(forms.Form):
    """A curator's decision, with the quantity they recomputed."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    recomputed_quantity = quantity_field(
        _("Recomputed quantity"),
        minimum=0,
        help_text=_("What the methodology gives for the measured values, in the smallest unit."),
    )
    reason_code = forms.ChoiceField(
        label=_("Reason (for a rejection)"),
        required=False,
        choices=[("", "—")] + list(RejectReason.choices),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == Decision.REJECT and not data.get("reason_code"):
            self.add_error("reason_code", _("A rejection gives a reason."))
        return data


class CredentialVerifyForm(forms.Form):
    credential = forms.CharField(
        label=_("Credential (JSON)"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "mono"}),
    )

    def clean_credential(self):
        try:
            document = json.loads(self.cleaned_data["credential"])
        except ValueError as error:
            raise forms.ValidationError(_("This is not JSON.")) from error
        if not isinstance(document, dict):
            raise forms.ValidationError(_("A credential is a JSON object."))
        return document


# --- portfolio ----------------------------------------------------------------------------


class TransferForm(Ids, forms.Form):
    id_prefix = "transfer"

    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=254,
        help_text=_("A member of this city: their DID, username or e-mail address."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    token_class = TokenClassField()
    quantity = quantity_field(_("Quantity"), help_text=QUANTITY_HELP)


class RetireForm(Ids, forms.Form):
    id_prefix = "retire"

    token_class = TokenClassField()
    quantity = quantity_field(_("Quantity"), help_text=QUANTITY_HELP)
    reason = forms.ChoiceField(label=_("Reason"), choices=RetireReason.choices)
    beneficiary_name = forms.CharField(
        label=_("Beneficiary (name)"),
        required=False,
        max_length=200,
        help_text=_("Shown on the certificate; only its SHA-256 goes on the ledger."),
    )
    beneficiary_did = forms.CharField(label=_("Beneficiary (DID)"), required=False, max_length=200)


class RedeemForm(Ids, forms.Form):
    id_prefix = "redeem"

    token_class = TokenClassField()
    quantity = quantity_field(_("Quantity"), help_text=QUANTITY_HELP)


class ForwardConsentForm(Ids, forms.Form):
    id_prefix = "consent"

    accepts = forms.BooleanField(
        label=_("New tokens issued to me may fill investors' forward orders at their price"),
        required=False,
    )


# --- market -------------------------------------------------------------------------------


class MarketFilterForm(Ids, forms.Form):
    id_prefix = "market-filter"

    token_class = TokenClassField(required=False, empty_label=_("all classes"))

    def token_class_value(self):
        return self.cleaned_data.get("token_class") if self.is_valid() else None


class SellOfferForm(Ids, forms.Form):
    id_prefix = "sell"

    token_class = TokenClassField()
    quantity = quantity_field(_("Quantity"), help_text=QUANTITY_HELP)
    unit_price = euros_field(
        _("Price per smallest unit (€)"), help_text=_("For example 0,03 per kg CO2e.")
    )

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        if price <= 0:
            raise forms.ValidationError(_("A price is more than zero."))
        return price

    def unit_price_cents(self) -> int:
        return cents_of(self.cleaned_data["unit_price"])


class BuyForm(Ids, forms.Form):
    id_prefix = "buy"

    quantity = quantity_field(_("Quantity"))


class ForwardOrderForm(SellOfferForm):
    """An investor pre-buys future issuance: class, quantity, fixed price per unit."""

    id_prefix = "forward"


class MerchantOfferForm(Ids, forms.Form):
    id_prefix = "merchant"

    title = forms.CharField(label=_("What you offer"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    token_class = TokenClassField()
    price_quantity = quantity_field(_("Price per item (smallest units)"))
    settlement = forms.ChoiceField(
        label=_("The tokens"), choices=MerchantSettlement.choices, widget=forms.RadioSelect
    )
    stock = quantity_field(
        _("Items in stock"), required=False, minimum=0, help_text=_("Empty: no limit.")
    )


class MerchantRedeemForm(Ids, forms.Form):
    id_prefix = "items"

    items = forms.IntegerField(label=_("Items"), min_value=1, max_value=1000, initial=1)


class ProjectForm(Ids, forms.Form):
    id_prefix = "project"

    title = forms.CharField(label=_("Project"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    token_class = TokenClassField(required=False, empty_label=_("no tokens"))
    goal_quantity = quantity_field(_("Goal in tokens"), required=False, minimum=0)
    goal = euros_field(_("Goal in money (€)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].required = False

    def clean(self):
        data = super().clean()
        if not data.get("goal_quantity") and not data.get("goal"):
            raise forms.ValidationError(_("A project collects tokens, money, or both."))
        if data.get("goal_quantity") and not data.get("token_class"):
            self.add_error("token_class", _("Say which tokens the project collects."))
        return data

    def goal_cents(self) -> int:
        goal = self.cleaned_data.get("goal")
        return cents_of(goal) if goal else 0


class ContributeForm(Ids, forms.Form):
    id_prefix = "give"

    quantity = quantity_field(_("Tokens"), required=False, minimum=0)
    amount = euros_field(_("Money (€)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].required = False

    def clean(self):
        data = super().clean()
        if not data.get("quantity") and not data.get("amount"):
            raise forms.ValidationError(_("Give tokens, money, or both."))
        return data

    def amount_cents(self) -> int:
        amount = self.cleaned_data.get("amount")
        return cents_of(amount) if amount else 0


class ParticipationCallForm(Ids, forms.Form):
    id_prefix = "call"

    title = forms.CharField(label=_("Public works"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    token_class = TokenClassField()
    reward_quantity = quantity_field(_("Reward per participant (smallest units)"))
    places = forms.IntegerField(label=_("Places"), min_value=1, max_value=100_000)


# --- the municipality ---------------------------------------------------------------------


class CuratorGrantForm(Ids, forms.Form):
    id_prefix = "curator"

    member = forms.CharField(
        label=_("Member"),
        max_length=254,
        help_text=_("An approved member of this city: their DID, username or e-mail address."),
    )


class RedemptionRateForm(Ids, forms.Form):
    id_prefix = "rate"

    token_class = TokenClassField()
    rate = euros_field(_("Paid per whole unit (€)"), help_text=_("For example 30 per t CO2e."))

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate <= 0:
            raise forms.ValidationError(_("A rate is more than zero."))
        return rate

    def rate_cents(self) -> int:
        return cents_of(self.cleaned_data["rate"])


PERIODS = [("12", _("last 12 months")), ("24", _("last 24 months")), ("all", _("all time"))]


class DashboardFilterForm(Ids, forms.Form):
    id_prefix = "board"

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)

    def since(self, today: date) -> date | None:
        period = (self.cleaned_data.get("period") if self.is_valid() else None) or "12"
        if period == "all":
            return None
        months = int(period) - 1
        year, month = today.year, today.month - months
        while month < 1:
            year, month = year - 1, month + 12
        return date(year, month, 1)
