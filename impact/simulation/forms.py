"""Forms of the impact simulation pages: a scenario with one methodology (each parameter with
its low / expected / high values), the scenarios to compare, the proposal to attach to."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.forms import cents_of, euros_field
from governance.models import Proposal

from ..forms import DecimalText, _english
from ..models import Methodology
from .models import InvestmentKind

VALUES = (("low", _("low")), ("expected", _("expected")), ("high", _("high")))


class ScenarioForm(forms.Form):
    """A planned investment and the low / expected / high values of each parameter of one
    methodology (per year of full effect). Amounts are typed in euros, kept in cents."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Investment"), choices=InvestmentKind.choices)
    cost = euros_field(_("Cost (€)"))
    annual_savings = euros_field(_("Yearly savings (€)"))
    start_year = forms.IntegerField(label=_("First year"), min_value=2000, max_value=2200)
    years = forms.IntegerField(label=_("Years"), min_value=1, max_value=50)
    ramp_years = forms.IntegerField(
        label=_("Ramp-up years"),
        min_value=1,
        max_value=50,
        initial=1,
        help_text=_("Years until the full effect (1: full from the first year)."),
    )
    districts = forms.CharField(
        label=_("Districts"),
        required=False,
        max_length=400,
        help_text=_("District codes separated by commas; empty for the whole city."),
    )
    fallback_price_cents = forms.IntegerField(
        label=_("Price when the market has none (cents per unit)"),
        required=False,
        min_value=1,
    )

    def __init__(self, *args, methodology: Methodology, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annual_savings"].required = False
        self.methodology = methodology
        language_en = _english()
        for parameter in methodology.parameters.all():
            label = parameter.label_en if language_en else parameter.label_fr
            for which, which_label in VALUES:
                self.fields[f"{which}_{parameter.name}"] = DecimalText(
                    label=f"{label} ({parameter.unit}), {which_label}",
                    max_length=40,
                    widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                )

    def parameter_fields(self):
        return [self[name] for name in self.fields if name.split("_", 1)[0] in dict(VALUES)]

    def clean(self):
        data = super().clean()
        start, ramp, years = data.get("start_year"), data.get("ramp_years"), data.get("years")
        if start and ramp and years and ramp > years:
            self.add_error("ramp_years", _("The ramp-up is at most the number of years."))
        return data

    def scenario_fields(self) -> dict:
        """The keyword arguments of `scenario_create` (without city and author)."""
        data = self.cleaned_data
        values = {
            which: {
                parameter.name: data[f"{which}_{parameter.name}"]
                for parameter in self.methodology.parameters.all()
            }
            for which, _label in VALUES
        }
        savings = data.get("annual_savings")
        return {
            "title": data["title"],
            "kind": data["kind"],
            "cost_cents": cents_of(data["cost"]),
            "annual_savings_cents": cents_of(savings) if savings else 0,
            "start_year": data["start_year"],
            "years": data["years"],
            "ramp_years": data["ramp_years"],
            "districts": [
                code.strip() for code in data.get("districts", "").split(",") if code.strip()
            ],
            "impacts": [
                {
                    "methodology": self.methodology,
                    **values,
                    "fallback_price_cents": data.get("fallback_price_cents"),
                }
            ],
        }


class AttachForm(forms.Form):
    """Which draft or open proposal of the city shows the scenario."""

    proposal = forms.ModelChoiceField(
        label=_("Proposal"),
        queryset=Proposal.objects.none(),
        to_field_name="public_id",
        empty_label=_("choose a proposal"),
    )

    def __init__(self, *args, proposals=None, **kwargs):
        super().__init__(*args, **kwargs)
        if proposals is not None:
            self.fields["proposal"].queryset = proposals
        self.fields["proposal"].label_from_instance = lambda proposal: proposal.title
