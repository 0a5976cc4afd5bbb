"""Forms of the governance pages: they parse and check the shape of what people type; the
services decide whether it is allowed, and their errors come back as form errors."""

from __future__ import annotations

import copy
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .budget import MAX_PROJECTS, ProjectFields
from .models import Choice, College, CollegeKind, ProposalKind, ProposalStatus
from .selectors import college_label

MAX_CENTS = 10**13  # 100 billion euros: far above any city budget, far below BigInteger


AMOUNT_HELP = _("For example 1500 or 1500,50.")


def euros_field(label, help_text=AMOUNT_HELP) -> forms.DecimalField:
    """An amount typed in euros with at most two decimals (a comma in French)."""
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=Decimal(MAX_CENTS) / 100,
        decimal_places=2,
        max_digits=13,
        localize=True,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


def cents_of(euros: Decimal) -> int:
    """Euros with at most two decimals (what `euros_field` accepts) as integer cents."""
    # decimal_places=2 makes this exact; to_integral_exact raises if it ever is not.
    return int(euros.scaleb(2).to_integral_exact())


def euros_of(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def did_field(label, help_text) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=200,
        help_text=help_text,
        widget=forms.TextInput(attrs={"spellcheck": "false", "class": "mono"}),
    )


def clean_did(value: str) -> str:
    value = value.strip()
    if not value.startswith("did:key:"):
        raise forms.ValidationError(_("A DID starts with did:key:"))
    return value


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

    is_budget_call = False

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
        if kind == ProposalKind.FUND_PROJECT and not self.is_budget_call:
            self.fields["amount"] = euros_field(_("Amount (euros)"))
            self.fields["recipient"] = did_field(
                _("Recipient's DID"),
                _("The did:key of who receives the money if the proposal passes."),
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
            initial["amount"] = euros_of(parameters["amount_cents"])
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
        return clean_did(self.cleaned_data["recipient"])

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
            return {"amount_cents": cents_of(data["amount"]), "recipient": data["recipient"]}
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


class BudgetProjectForm(forms.Form):
    """One project of a participatory budget; `project` names an existing one (amend)."""

    project = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Project title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount = euros_field(_("Cost (euros)"))
    recipient = did_field(
        _("Recipient's DID"), _("The did:key of who receives the money if it is funded.")
    )

    def clean_recipient(self):
        return clean_did(self.cleaned_data["recipient"])


class BaseBudgetProjectFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Withdraw this project")

    def kept(self) -> list[BudgetProjectForm]:
        """The rows filled in and not withdrawn (empty extra rows are ignored)."""
        deleted = set(map(id, self.deleted_forms))
        return [f for f in self.forms if f.cleaned_data and id(f) not in deleted]


BudgetProjectFormSet = forms.formset_factory(
    BudgetProjectForm,
    formset=BaseBudgetProjectFormSet,
    extra=3,
    can_delete=True,
    can_delete_extra=False,
    max_num=MAX_PROJECTS,
    absolute_max=MAX_PROJECTS,
    validate_max=True,
)


class BudgetCallForm(ProposalForm):
    """A participatory budget: a fund_project call with its total budget and its projects
    (the rows of `self.projects`, three empty ones each time the form is shown; saving the
    draft gives three more). Amounts are typed in euros and become integer cents."""

    is_budget_call = True

    def __init__(self, data=None, *, colleges, rules, projects=(), **kwargs):
        super().__init__(
            data, kind=ProposalKind.FUND_PROJECT, colleges=colleges, rules=rules, **kwargs
        )
        self.fields["total_budget"] = euros_field(
            _("Total budget (euros)"),
            _("The money shared out among the projects voted for. For example 50000."),
        )
        self.projects = BudgetProjectFormSet(
            data,
            prefix="projects",
            initial=[
                {
                    "project": p.public_id,
                    "title": p.title,
                    "description": p.description,
                    "amount": euros_of(p.cost_cents),
                    "recipient": p.recipient,
                }
                for p in projects
            ],
        )

    @classmethod
    def initial_from(cls, proposal) -> dict:
        initial = {"title": proposal.title, "body": proposal.body}
        budget = (proposal.parameters or {}).get("budget_cents")
        if type(budget) is int:
            initial["total_budget"] = euros_of(budget)
        return initial

    def is_valid(self) -> bool:
        form_valid = super().is_valid()
        projects_valid = self.projects.is_valid()
        if not (form_valid and projects_valid):
            return False
        kept = self.projects.kept()
        if not kept:
            self.add_error(None, _("A participatory budget needs at least one project."))
        budget = self.cleaned_data["total_budget"]
        for row in kept:
            if row.cleaned_data["amount"] > budget:
                row.add_error("amount", _("A project cannot cost more than the whole budget."))
        return not self.errors and not any(row.errors for row in kept)

    def budget_cents(self) -> int:
        return cents_of(self.cleaned_data["total_budget"])

    def parameters(self) -> dict:
        return {"budget_cents": self.budget_cents()}

    def project_rows(self) -> list[ProjectFields]:
        """The projects kept, for `budget_call_create` / `budget_call_amend`."""
        return [
            ProjectFields(
                title=row.cleaned_data["title"],
                description=row.cleaned_data["description"],
                cost_cents=cents_of(row.cleaned_data["amount"]),
                recipient=row.cleaned_data["recipient"],
                public_id=row.cleaned_data["project"] if row.initial else "",
            )
            for row in self.projects.kept()
        ]

    def removed(self) -> list[str]:
        """The public ids of the existing projects withdrawn."""
        return [
            row.cleaned_data["project"]
            for row in self.projects.deleted_forms
            if row.initial and row.cleaned_data.get("project")
        ]


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
