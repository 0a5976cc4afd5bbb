"""Impact simulation: a planned investment (a scenario) whose expected impact is computed
with the same methodologies and emission factors as impact claims, and its attachment to a
governance proposal so residents see the forecast when they vote.

Free text (titles) stays in these tables; the ledger holds public ids, integers and SHA-256
digests of a scenario's inputs and results.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.models import new_public_id

__all__ = [
    "InvestmentKind",
    "Scenario",
    "ScenarioAttachment",
    "ScenarioImpact",
]


class InvestmentKind(models.TextChoices):
    CYCLE_LANE = "cycle_lane", _("cycle lane")
    BUILDING_RENOVATION = "building_renovation", _("building renovation")
    ELECTRIC_BUSES = "electric_buses", _("electric buses")
    WASTE_SORTING = "waste_sorting", _("waste sorting")
    RENEWABLE_ENERGY = "renewable_energy", _("renewable energy")
    OTHER = "other", _("other investment")


class Scenario(models.Model):
    """One version of a planned investment: cost, schedule, districts, the methodologies it
    affects (`impacts`) and the simulation's results. A change is a new version with the same
    `code`; a version never changes once recorded (its digests are on the ledger)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    city = models.ForeignKey("governance.City", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32, default=new_public_id)  # shared by its versions
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("investment"), max_length=32, choices=InvestmentKind.choices)
    cost_cents = models.BigIntegerField(_("cost (cents)"))
    # Plain financial returns of the investment (savings, fares...), per year, in cents.
    annual_savings_cents = models.BigIntegerField(_("yearly savings (cents)"), default=0)
    start_year = models.PositiveSmallIntegerField(_("first year"))
    years = models.PositiveSmallIntegerField(_("years"))
    # Years until the full effect (1: full from the first year; 3: 1/3, 2/3, then all).
    ramp_years = models.PositiveSmallIntegerField(_("ramp-up years"), default=1)
    districts = models.JSONField(default=list, blank=True)  # district codes; [] = whole city
    draws = models.PositiveIntegerField(default=2000)
    seed = models.BigIntegerField(default=0)
    inputs_digest = models.CharField(max_length=64)
    results = models.JSONField(default=dict)
    results_digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["city", "code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "code", "version"], name="scenario_unique_version"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    cost_cents__gte=1,
                    annual_savings_cents__gte=0,
                    years__gte=1,
                    years__lte=50,
                    ramp_years__gte=1,
                    draws__gte=1,
                ),
                name="scenario_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} v{self.version}"

    @property
    def last_year(self) -> int:
        return self.start_year + self.years - 1


class ScenarioImpact(models.Model):
    """A methodology version the scenario affects, with low / expected / high values of each
    of its parameters (decimal strings, per year of full effect) and the price to use when
    the city's market has none (cents per smallest unit of the token class)."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="impacts")
    methodology = models.ForeignKey(
        "impact.Methodology", on_delete=models.PROTECT, related_name="scenario_impacts"
    )
    low = models.JSONField(default=dict)
    expected = models.JSONField(default=dict)
    high = models.JSONField(default=dict)
    fallback_price_cents = models.BigIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scenario", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "methodology"], name="scenario_impact_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id}:{self.methodology_id}"


class ScenarioAttachment(models.Model):
    """A scenario shown with a proposal (e.g. `fund_project`), so voters see its expected
    impact; the scenario's results digest is recorded on the ledger with it."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="attachments")
    proposal = models.ForeignKey(
        "governance.Proposal", on_delete=models.PROTECT, related_name="scenario_attachments"
    )
    results_digest = models.CharField(max_length=64)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey("ledger.Transaction", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "scenario"], name="scenario_attached_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id}->{self.proposal_id}"
