"""Forms of the impact simulation pages: the methodologies a scenario affects, the scenario
(each parameter of each methodology with its low / expected / high values), the proposal to
attach to."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.forms import cents_of, euros_field
from governance.models import Proposal

from ..forms import DecimalText, _english
from ..models import Methodology
from .models import InvestmentKind
from .services import MAX_IMPACTS

VALUES = (("low", _("low")), ("expected", _("expected")), ("high", _("high")))


class MethodologiesChoiceForm(forms.Form):
    """Step one of a scenario: the methodologies the investment affects (one or several, e.g.
    a cycle lane and a building renovation in one plan); their parameters follow."""

    methodology = forms.ModelMultipleChoiceField(
        label=_("Methodologies"),
        queryset=Methodology.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every methodology the investment affects."),
    )

    def __init__(self, *args, methodologies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if methodologies is not None:
            field = self.fields["methodology"]
            field.queryset = methodologies
            field.label_from_instance = lambda m: f"{m.title} — {m.indicator.code} (v{m.version})"

    def clean_methodology(self):
        chosen = list(self.cleaned_data["methodology"])
        if len(chosen) > MAX_IMPACTS:
            raise forms.ValidationError(
                _("A scenario affects from 1 to %(n)s methodologies.") % {"n": MAX_IMPACTS}
            )
        return chosen


class ScenarioForm(forms.Form):
    """A planned investment and, for each methodology it affects, the low / expected / high
    values of each parameter (per year of full effect) and a fallback price. Amounts are
    typed in euros, kept in cents. Parameter fields are named `<code>__<which>_<parameter>`
    (a methodology code appears once: only one version of a code is active)."""

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

    def __init__(self, *args, methodologies: list[Methodology], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annual_savings"].required = False
        self.methodologies = list(methodologies)
        language_en = _english()
        for methodology in self.methodologies:
            for parameter in methodology.parameters.all():
                label = parameter.label_en if language_en else parameter.label_fr
                for which, which_label in VALUES:
                    self.fields[self.field_name(methodology, which, parameter.name)] = DecimalText(
                        label=f"{label} ({parameter.unit}), {which_label}",
                        max_length=40,
                        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                    )
            self.fields[self.field_name(methodology, "fallback", "price_cents")] = (
                forms.IntegerField(
                    label=_("Price when the market has none (cents per unit)"),
                    required=False,
                    min_value=1,
                )
            )

    @staticmethod
    def field_name(methodology: Methodology, which: str, name: str) -> str:
        return f"{methodology.code}__{which}_{name}"

    def groups(self) -> list[dict]:
        """Per methodology: its parameter fields and its fallback price field (the page
        shows one fieldset each)."""
        return [
            {
                "methodology": methodology,
                "fields": [
                    self[self.field_name(methodology, which, parameter.name)]
                    for parameter in methodology.parameters.all()
                    for which, _label in VALUES
                ],
                "price": self[self.field_name(methodology, "fallback", "price_cents")],
            }
            for methodology in self.methodologies
        ]

    def clean(self):
        data = super().clean()
        start, ramp, years = data.get("start_year"), data.get("ramp_years"), data.get("years")
        if start and ramp and years and ramp > years:
            self.add_error("ramp_years", _("The ramp-up is at most the number of years."))
        return data

    def scenario_fields(self) -> dict:
        """The keyword arguments of `scenario_create` (without city and author)."""
        data = self.cleaned_data
        impacts = []
        for methodology in self.methodologies:
            values = {
                which: {
                    parameter.name: data[self.field_name(methodology, which, parameter.name)]
                    for parameter in methodology.parameters.all()
                }
                for which, _label in VALUES
            }
            price = data.get(self.field_name(methodology, "fallback", "price_cents"))
            impacts.append({"methodology": methodology, **values, "fallback_price_cents": price})
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
            "impacts": impacts,
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


class ForecastFilterForm(forms.Form):
    """Which indicator of the scenario the forecast page shows (all by default)."""

    indicator = forms.ChoiceField(label=_("Indicator"), required=False)

    def __init__(self, *args, scenario, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = [("", _("all indicators"))] + [
            (impact["code"], f"{impact['indicator']} — {impact['code']} v{impact['version']}")
            for impact in scenario.results["impacts"]
        ]

    def chosen(self) -> str | None:
        return (self.cleaned_data.get("indicator") or None) if self.is_valid() else None
