"""Forms of the governance pages: they parse and check the shape of what people type; the
services decide whether it is allowed, and their errors come back as form errors."""

from __future__ import annotations

import copy
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Choice, College, CollegeKind, ProposalKind, ProposalStatus
from .selectors import college_label

MAX_CENTS = 10**13  # 100 billion euros: far above any city budget, far below BigInteger


class CollegeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, college: College) -> str:
        return college_label(college)


class JoinForm(forms.Form):
    """Ask to join a college. Residents prove residency by an address in one of the city's
    postal codes; providers give their SIRET. Municipality staff are appointed."""

    college = CollegeChoiceField(
        label=_("College"),
        queryset=College.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    postal_address = forms.CharField(
        label=_("Postal address"),
        required=False,
        max_length=300,
        help_text=_(
            "Residents only. Seen by the municipality staff who check it, never published."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        required=False,
        max_length=10,
        help_text=_("Residents only."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    siret = forms.CharField(
        label=_("SIRET number"),
        required=False,
        max_length=20,
        help_text=_("Providers only: the 14 digits of your establishment."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, colleges, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = colleges

    def clean(self):
        data = super().clean()
        college = data.get("college")
        if college is None:
            return data
        if college.kind == CollegeKind.RESIDENTS:
            if not data.get("postal_address", "").strip():
                self.add_error("postal_address", _("Residents give their postal address."))
            if not data.get("postal_code", "").strip():
                self.add_error("postal_code", _("Residents give their postal code."))
        if college.kind == CollegeKind.PROVIDERS and not data.get("siret", "").strip():
            self.add_error("siret", _("Providers give their SIRET number."))
        return data


class ProposalForm(forms.Form):
    """A proposal of one kind: its text, and the parameters that kind needs.

    fund_project: an amount in euros (converted to integer cents with Decimal, never a
    float) and the recipient's DID. amend_rules: per college a weight and a quorum, the
    approval threshold and whether a vote may be changed; the rest of the rules in force
    (voting period, proposers) is carried over.
    """

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What you propose and why. Members debate it before the vote."),
    )

    def __init__(self, *args, kind: str, colleges: list[College], rules: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.colleges = colleges
        self.rules = rules
        if kind == ProposalKind.FUND_PROJECT:
            self.fields["amount"] = forms.DecimalField(
                label=_("Amount (euros)"),
                min_value=Decimal("0.01"),
                max_value=Decimal(MAX_CENTS) / 100,
                decimal_places=2,
                max_digits=13,
                localize=True,
                help_text=_("For example 1500 or 1500,50."),
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            self.fields["recipient"] = forms.CharField(
                label=_("Recipient's DID"),
                max_length=200,
                help_text=_("The did:key of who receives the money if the proposal passes."),
                widget=forms.TextInput(attrs={"spellcheck": "false", "class": "mono"}),
            )
        elif kind == ProposalKind.DEPLOY_SERVICE:
            self.fields["service"] = forms.CharField(
                label=_("Service"),
                max_length=64,
                help_text=_("The identifier of the service and version in the app store."),
            )
        elif kind == ProposalKind.AMEND_RULES:
            current = rules["colleges"]
            for college in colleges:
                values = current.get(college.slug, {"weight": 0, "quorum_percent": 0})
                label = college_label(college)
                self.fields[f"weight_{college.slug}"] = forms.IntegerField(
                    label=_("Weight of %(college)s") % {"college": label},
                    min_value=0,
                    max_value=100,
                    initial=values["weight"],
                )
                self.fields[f"quorum_{college.slug}"] = forms.IntegerField(
                    label=_("Quorum of %(college)s, in percent of its members")
                    % {"college": label},
                    min_value=0,
                    max_value=100,
                    initial=values["quorum_percent"],
                )
            self.fields["threshold"] = forms.IntegerField(
                label=_("Approval threshold, in percent of the weighted result"),
                min_value=0,
                max_value=99,
                initial=rules["approval_threshold_percent"],
                help_text=_("A proposal passes when its weighted result is above this."),
            )
            self.fields["vote_changeable"] = forms.BooleanField(
                label=_("A voter may change their vote until the close"),
                required=False,
                initial=rules["vote_changeable"],
            )

    @classmethod
    def initial_from(cls, proposal) -> dict:
        """The values of an existing draft, for the amend form."""
        initial = {"title": proposal.title, "body": proposal.body}
        parameters = proposal.parameters or {}
        if type(parameters.get("amount_cents")) is int:
            initial["amount"] = Decimal(parameters["amount_cents"]).scaleb(-2)
            initial["recipient"] = parameters.get("recipient", "")
        if "service" in parameters:
            initial["service"] = parameters["service"]
        rules = parameters.get("rules")
        if isinstance(rules, dict):
            for slug, values in rules.get("colleges", {}).items():
                initial[f"weight_{slug}"] = values.get("weight")
                initial[f"quorum_{slug}"] = values.get("quorum_percent")
            initial["threshold"] = rules.get("approval_threshold_percent")
            initial["vote_changeable"] = rules.get("vote_changeable")
        return initial

    def college_fields(self):
        """(college label, weight field, quorum field) rows of the amend_rules form."""
        return [
            (college_label(c), self[f"weight_{c.slug}"], self[f"quorum_{c.slug}"])
            for c in self.colleges
        ]

    def clean_recipient(self):
        recipient = self.cleaned_data["recipient"].strip()
        if not recipient.startswith("did:key:"):
            raise forms.ValidationError(_("A DID starts with did:key:"))
        return recipient

    def clean(self):
        data = super().clean()
        if self.kind == ProposalKind.AMEND_RULES:
            weights = [data.get(f"weight_{c.slug}") for c in self.colleges]
            if None not in weights and sum(weights) != 100:
                raise forms.ValidationError(
                    _("The college weights add up to %(total)s; they must add up to 100.")
                    % {"total": sum(weights)}
                )
        return data

    def parameters(self) -> dict:
        """The service's `parameters` for this kind, from the cleaned data."""
        data = self.cleaned_data
        if self.kind == ProposalKind.FUND_PROJECT:
            cents = data["amount"].scaleb(2)
            # decimal_places=2 makes this exact; to_integral_exact raises if it ever is not.
            return {"amount_cents": int(cents.to_integral_exact()), "recipient": data["recipient"]}
        if self.kind == ProposalKind.DEPLOY_SERVICE:
            return {"service": data["service"]}
        if self.kind == ProposalKind.AMEND_RULES:
            rules = copy.deepcopy(self.rules)
            rules["colleges"] = {
                c.slug: {
                    "weight": data[f"weight_{c.slug}"],
                    "quorum_percent": data[f"quorum_{c.slug}"],
                }
                for c in self.colleges
            }
            rules["approval_threshold_percent"] = data["threshold"]
            rules["vote_changeable"] = data["vote_changeable"]
            return {"rules": rules}
        return {}


class OpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Voting closes on"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("The members of every college at this moment form the electorate."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("My vote"), choices=Choice.choices, widget=forms.RadioSelect)


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Sent to the person; only its digest goes on the ledger."),
    )


class ProposalFilterForm(forms.Form):
    """The GET form above the proposals list; an unknown value is ignored, not an error."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + list(ProposalStatus.choices),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All"))] + list(ProposalKind.choices),
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {"status": None, "kind": None}
        return {
            "status": self.cleaned_data["status"] or None,
            "kind": self.cleaned_data["kind"] or None,
        }
