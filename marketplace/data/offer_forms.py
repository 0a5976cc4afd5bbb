"""Forms of the offer and access pages (`offer_views`): the publisher's offer, whose ODRL
policy is built here from plain fields and validated by `odrl.policy_validate`; the
consumer's request for a quote and its acceptance. Prices are typed in euros and leave as
integer cents; every check is repeated by the services."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from . import odrl
from .models import PricingModel

MB = 1_000_000
MAX_DAYS = 3660
MAX_EUROS = Decimal(10**8)  # the services accept up to 10^10 cents
_SPLIT = re.compile(r"[\s,;]+")

# The actions a publisher ticks, in the words of the page (ODRL 2.2 and the platform's profile).
PERMITTED_ACTIONS = [
    ("read", _("read the data")),
    ("use", _("use the data")),
    ("aggregate", _("aggregate it with other records")),
    ("derive", _("derive new data from it")),
    ("anonymize", _("anonymise it")),
    ("display", _("display it")),
    ("index", _("index it")),
    ("smartb:trainModel", _("train a model with it")),
    ("distribute", _("pass it on to others")),
]
PROHIBITED_ACTIONS = [
    ("distribute", _("pass it on to others")),
    ("sell", _("sell it")),
    ("transfer", _("transfer it")),
    ("reproduce", _("copy it")),
    ("derive", _("derive new data from it")),
    ("smartb:trainModel", _("train a model with it")),
]


def _optional_int(label, *, minimum: int = 1, maximum: int | None = None, help_text=""):
    return forms.IntegerField(
        label=label, required=False, min_value=minimum, max_value=maximum, help_text=help_text
    )


class OfferForm(forms.Form):
    """An offer on a dataset. `policy()` is the validated ODRL rules (after `is_valid`),
    `unit_price_cents()` the price in cents."""

    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    pricing_model = forms.ChoiceField(label=_("Pricing"), choices=PricingModel.choices)
    price = forms.DecimalField(
        label=_("Price (euros)"),
        required=False,
        min_value=Decimal(0),
        max_value=MAX_EUROS,
        max_digits=11,
        decimal_places=2,
        help_text=_("per request, per record, per MB or per subscription period; 0 when free"),
    )
    subscription_days = _optional_int(
        _("Subscription period (days)"), maximum=MAX_DAYS, help_text=_("subscriptions only")
    )
    actions = forms.MultipleChoiceField(
        label=_("Permitted actions"),
        choices=PERMITTED_ACTIONS,
        widget=forms.CheckboxSelectMultiple,
    )
    prohibited = forms.MultipleChoiceField(
        label=_("Prohibited actions"),
        choices=PROHIBITED_ACTIONS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    purposes = forms.CharField(
        label=_("Purposes allowed"),
        required=False,
        max_length=2000,
        help_text=_(
            "identifiers separated by commas, such as research, urban-planning; empty: any"
        ),
    )
    duration_days = _optional_int(
        _("Duration of an agreement (days)"), maximum=99999, help_text=_("empty: no end")
    )
    max_requests = _optional_int(_("At most this many requests"), maximum=odrl.MAX_INTEGER)
    max_records = _optional_int(_("At most this many records"), maximum=odrl.MAX_INTEGER)
    max_megabytes = _optional_int(_("At most this many MB"), maximum=odrl.MAX_INTEGER // MB)
    delete_after_days = _optional_int(
        _("The consumer deletes the data after (days)"), maximum=99999
    )

    def clean_purposes(self) -> list[str]:
        return sorted({p for p in _SPLIT.split(self.cleaned_data.get("purposes") or "") if p})

    def clean(self):
        data = super().clean()
        model = data.get("pricing_model")
        price = data.get("price") or Decimal(0)
        if model == PricingModel.FREE and price:
            self.add_error("price", _("A free offer has a price of 0."))
        elif model and model != PricingModel.FREE and not price:
            self.add_error("price", _("A paid offer has a price above 0: choose “free” otherwise."))
        if model == PricingModel.SUBSCRIPTION and not data.get("subscription_days"):
            self.add_error("subscription_days", _("A subscription needs its period in days."))
        if data.get("actions") and "purposes" not in self.errors:
            try:
                self._policy = odrl.policy_validate(self._rules(data))
            except odrl.InvalidPolicy as error:
                self.add_error(None, error.message)
        return data

    def _constraints(self, data) -> list[dict]:
        constraints = []
        if data.get("purposes"):
            constraints.append(
                {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": data["purposes"]}
            )
        if data.get("duration_days"):
            constraints.append(
                {
                    "leftOperand": "elapsedTime",
                    "operator": "lteq",
                    "rightOperand": f"P{data['duration_days']}D",
                }
            )
        for field, operand, factor in (
            ("max_requests", "count", 1),
            ("max_records", "smartb:records", 1),
            ("max_megabytes", "smartb:bytes", MB),
        ):
            if data.get(field):
                constraints.append(
                    {
                        "leftOperand": operand,
                        "operator": "lteq",
                        "rightOperand": data[field] * factor,
                    }
                )
        return constraints

    def _rules(self, data) -> dict:
        """The ODRL rules: one permission per action, each with the same constraints and
        delete duty (the platform enforces the tightest bound of any permission)."""
        constraints = self._constraints(data)
        duties = []
        if data.get("delete_after_days"):
            duties.append(
                {
                    "action": "delete",
                    "constraint": [
                        {
                            "leftOperand": "delayPeriod",
                            "operator": "eq",
                            "rightOperand": f"P{data['delete_after_days']}D",
                        }
                    ],
                }
            )
        permissions = []
        for action in data["actions"]:
            rule: dict = {"action": action}
            if constraints:
                rule["constraint"] = [dict(c) for c in constraints]
            if duties:
                rule["duty"] = [dict(d) for d in duties]
            permissions.append(rule)
        rules: dict = {"permission": permissions}
        if data.get("prohibited"):
            rules["prohibition"] = [{"action": action} for action in data["prohibited"]]
        return rules

    def policy(self) -> dict:
        return self._policy

    def unit_price_cents(self) -> int:
        price = self.cleaned_data.get("price") or Decimal(0)
        return int(price * 100)


class QuoteForm(forms.Form):
    """The volume a consumer expects (one request of the whole file by default)."""

    requests = forms.IntegerField(
        label=_("Number of requests"), min_value=1, max_value=10**6, initial=1, required=False
    )


class AcceptForm(forms.Form):
    """Accepting a quote: the consumer's purposes (among the offer's) and the DID that signs
    (the account's, or a provider it owns)."""

    purposes = forms.MultipleChoiceField(
        label=_("Your purposes"), widget=forms.CheckboxSelectMultiple, required=False
    )
    signer = forms.ChoiceField(label=_("Sign as"), required=False)

    def __init__(self, *args, offer, providers, **kwargs):
        super().__init__(*args, **kwargs)
        purposes = list(offer.purposes or [])
        self.fields["purposes"].choices = [(p, p) for p in purposes]
        if not purposes:
            del self.fields["purposes"]
        self.providers = {p.public_id: p for p in providers}
        self.fields["signer"].choices = [("", _("myself (my DID)"))] + [
            (p.public_id, p.name) for p in providers
        ]
        if not providers:
            self.fields["signer"].widget = forms.HiddenInput()

    def clean_purposes(self) -> list[str]:
        chosen = self.cleaned_data.get("purposes") or []
        if not chosen:
            raise forms.ValidationError(_("Choose at least one of the offer's purposes."))
        return chosen

    def provider(self):
        return self.providers.get(self.cleaned_data.get("signer") or "")

    def chosen_purposes(self) -> list[str]:
        return self.cleaned_data.get("purposes", [])
