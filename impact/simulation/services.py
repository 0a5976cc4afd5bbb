"""The only writers of impact simulation: a scenario (or a new version of one) simulated and
recorded, and a scenario attached to a proposal. Each writes its signed ledger transaction
(ids, integers and SHA-256 digests only) in the same database transaction."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from governance.models import City, Proposal, ProposalStatus
from identity.models import User

from .. import compute
from ..errors import InvalidInput, InvalidParameters, NotFound, WrongState
from ..models import Methodology, MethodologyStatus
from ..services._common import (
    TOKEN,
    clean_text,
    positive_int,
    record,
    require_staff,
    sha256_json,
    signer_of,
)
from . import engine
from .models import InvestmentKind, Scenario, ScenarioAttachment, ScenarioImpact
from .selectors import market_price

MAX_IMPACTS = 10
MAX_DISTRICTS = 50
MAX_DRAWS = 20000
YEARS = (2000, 2200)


def _int_between(value, *, what: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InvalidInput(
            _("%(what)s is a whole number from %(low)s to %(high)s.")
            % {"what": what, "low": low, "high": high}
        )
    return value


def _districts(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_DISTRICTS:
        raise InvalidInput(
            _("Districts are a list of at most %(n)s district codes.") % {"n": MAX_DISTRICTS}
        )
    for code in value:
        if not isinstance(code, str) or not TOKEN.match(code):
            raise InvalidInput(_("A district is a code (letters, digits, - _ . :)."))
    return sorted(set(value))


def _clean_values(methodology: Methodology, values, which: str) -> dict[str, str]:
    try:
        return compute.clean_parameters(methodology, values)
    except InvalidParameters as error:
        raise InvalidParameters(
            _("%(which)s values of %(methodology)s: %(why)s")
            % {"which": which, "methodology": str(methodology), "why": error.message}
        ) from error


def _clean_impact(item) -> tuple[Methodology, dict, int | None]:
    """One affected methodology: its three value sets checked (names, kinds, bounds, order)
    and computable, and its fallback price."""
    if not isinstance(item, dict) or not isinstance(item.get("methodology"), Methodology):
        raise InvalidInput(_("Each impact names a methodology and its values."))
    methodology = item["methodology"]
    if methodology.status != MethodologyStatus.ACTIVE:
        raise InvalidInput(_("%(m)s is retired: use its current version.") % {"m": methodology})
    low = _clean_values(methodology, item.get("low"), _("Low"))
    expected = _clean_values(methodology, item.get("expected"), _("Expected"))
    high = _clean_values(methodology, item.get("high"), _("High"))
    for name in expected:
        if not Decimal(low[name]) <= Decimal(expected[name]) <= Decimal(high[name]):
            raise InvalidParameters(
                _("%(name)s of %(methodology)s: give low ≤ expected ≤ high.")
                % {"name": name, "methodology": str(methodology)}
            )
    for values in (low, expected, high):
        compute.compute_quantity(methodology, values)  # a clear error if not computable
    price = item.get("fallback_price_cents")
    if price is not None:
        price = positive_int(price, what=_("The fallback price"))
    return methodology, {"low": low, "expected": expected, "high": high}, price


def _spec(methodology: Methodology) -> engine.MethodologySpec:
    return engine.MethodologySpec(
        public_id=methodology.public_id,
        code=methodology.code,
        version=methodology.version,
        indicator=methodology.indicator.code,
        token_class=methodology.token_class.code,
        smallest_unit=methodology.token_class.smallest_unit,
        precision=methodology.token_class.precision,
        formula=methodology.formula,
        factors={factor.name: Decimal(factor.value) for factor in methodology.factors.all()},
    )


def _decimals(values: dict[str, str]) -> dict[str, Decimal]:
    return {name: Decimal(text) for name, text in values.items()}


def inputs_digest_of(
    *,
    title: str,
    kind: str,
    cost_cents: int,
    annual_savings_cents: int,
    start_year: int,
    years: int,
    ramp_years: int,
    districts: list[str],
    draws: int,
    seed: int,
    impacts: list[dict],
) -> str:
    """SHA-256 of a scenario's inputs as the ledger records them: `impacts` are
    {methodology: public id, low, expected, high, fallback}, the title only as its digest.
    (A city export recomputes it to check a scenario against its transaction.)"""
    return sha256_json(
        {
            "kind": kind,
            "cost_cents": cost_cents,
            "annual_savings_cents": annual_savings_cents,
            "start_year": start_year,
            "years": years,
            "ramp_years": ramp_years,
            "districts": districts,
            "draws": draws,
            "seed": seed,
            "impacts": impacts,
            "title": sha256_json({"title": title}),
        }
    )


@transaction.atomic
def scenario_create(
    *,
    city: City,
    by: User,
    title: str,
    kind: str,
    cost_cents: int,
    start_year: int,
    years: int,
    impacts: list[dict],
    districts: list[str] | None = None,
    annual_savings_cents: int = 0,
    ramp_years: int = 1,
    draws: int = 2000,
    seed: int = 0,
    revises: Scenario | None = None,
) -> Scenario:
    """Simulate and record a scenario by municipality staff of `city` (a new version of
    `revises` when given). `impacts` is a list of {methodology, low, expected, high,
    fallback_price_cents?}, values as decimal strings by parameter name, per year of full
    effect; every parameter of the methodology is required, within its bounds, with low ≤
    expected ≤ high. Records `impact.scenario.create` with the digests of the inputs and of
    the results."""
    require_staff(by, city)
    title = clean_text(title, what=_("The title"), max_length=200)
    if kind not in InvestmentKind.values:
        raise InvalidInput(_("Unknown kind of investment."))
    cost_cents = positive_int(cost_cents, what=_("The cost in cents"))
    annual_savings_cents = positive_int(
        annual_savings_cents, what=_("The yearly savings in cents"), zero=True
    )
    start_year = _int_between(start_year, what=_("The first year"), low=YEARS[0], high=YEARS[1])
    years = _int_between(years, what=_("The number of years"), low=1, high=50)
    ramp_years = _int_between(ramp_years, what=_("The ramp-up"), low=1, high=years)
    draws = _int_between(draws, what=_("The number of draws"), low=1, high=MAX_DRAWS)
    seed = _int_between(seed, what=_("The seed"), low=0, high=2**53)
    districts = _districts(districts)
    if not isinstance(impacts, list) or not 1 <= len(impacts) <= MAX_IMPACTS:
        raise InvalidInput(
            _("A scenario affects from 1 to %(n)s methodologies.") % {"n": MAX_IMPACTS}
        )
    cleaned = [_clean_impact(item) for item in impacts]
    if len({methodology.pk for methodology, _values, _price in cleaned}) != len(cleaned):
        raise InvalidInput(_("Each methodology appears once in a scenario."))

    inputs, engine_inputs = [], []
    for methodology, values, fallback in cleaned:
        market = market_price(city=city, token_class=methodology.token_class)
        price, source = (
            (market, "market")
            if market is not None
            else (fallback, "scenario")
            if fallback is not None
            else (None, "none")
        )
        inputs.append({"methodology": methodology.public_id, **values, "fallback": fallback})
        engine_inputs.append(
            engine.ImpactInput(
                methodology=_spec(methodology),
                low=_decimals(values["low"]),
                expected=_decimals(values["expected"]),
                high=_decimals(values["high"]),
                price_cents=price,
                price_source=source,
            )
        )
    plan = engine.Plan(
        cost_cents=cost_cents,
        start_year=start_year,
        years=years,
        annual_savings_cents=annual_savings_cents,
        ramp_years=ramp_years,
        draws=draws,
        seed=seed,
    )
    results = engine.simulate(plan, engine_inputs)
    inputs_digest = inputs_digest_of(
        title=title,
        kind=kind,
        cost_cents=cost_cents,
        annual_savings_cents=annual_savings_cents,
        start_year=start_year,
        years=years,
        ramp_years=ramp_years,
        districts=districts,
        draws=draws,
        seed=seed,
        impacts=inputs,
    )
    results_digest = sha256_json(results)

    if revises is not None:
        if revises.city_id != city.pk:
            raise NotFound()
        code = revises.code
        latest = (
            Scenario.objects.select_for_update()
            .filter(city=city, code=code)
            .order_by("-version")
            .first()
        )
        version = latest.version + 1
    else:
        code, version = None, 1
    signer = signer_of(by)
    scenario = Scenario(
        city=city,
        version=version,
        title=title,
        kind=kind,
        cost_cents=cost_cents,
        annual_savings_cents=annual_savings_cents,
        start_year=start_year,
        years=years,
        ramp_years=ramp_years,
        districts=districts,
        draws=draws,
        seed=seed,
        inputs_digest=inputs_digest,
        results=results,
        results_digest=results_digest,
        created_by=by,
    )
    if code is not None:
        scenario.code = code
    scenario.entry = record(
        chain=city.chain,
        actor=signer,
        kind="impact.scenario.create",
        payload={
            "scenario": scenario.public_id,
            "code": scenario.code,
            "version": version,
            "methodologies": [methodology.public_id for methodology, _v, _p in cleaned],
            "cost_cents": cost_cents,
            "inputs": inputs_digest,
            "results": results_digest,
        },
    )
    try:
        with transaction.atomic():
            scenario.save()
    except IntegrityError as error:
        raise WrongState(_("Another version of this scenario was just recorded.")) from error
    ScenarioImpact.objects.bulk_create(
        ScenarioImpact(
            scenario=scenario,
            methodology=methodology,
            fallback_price_cents=fallback,
            position=position,
            **values,
        )
        for position, (methodology, values, fallback) in enumerate(cleaned)
    )
    return scenario


@transaction.atomic
def scenario_attach(*, scenario: Scenario, proposal: Proposal, by: User) -> ScenarioAttachment:
    """Show `scenario` with `proposal` (same city, not yet closed), by municipality staff;
    records `impact.scenario.attach` with the scenario's results digest."""
    require_staff(by, scenario.city)
    if proposal.city_id != scenario.city_id:
        raise NotFound()
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.OPEN):
        raise WrongState(_("A scenario is attached to a draft or open proposal only."))
    if ScenarioAttachment.objects.filter(scenario=scenario, proposal=proposal).exists():
        raise WrongState(_("This scenario is already attached to this proposal."))
    attachment = ScenarioAttachment(
        scenario=scenario,
        proposal=proposal,
        results_digest=scenario.results_digest,
        attached_by=by,
    )
    attachment.entry = record(
        chain=scenario.city.chain,
        actor=signer_of(by),
        kind="impact.scenario.attach",
        payload={
            "attachment": attachment.public_id,
            "scenario": scenario.public_id,
            "proposal": proposal.public_id,
            "inputs": scenario.inputs_digest,
            "results": scenario.results_digest,
        },
    )
    attachment.save()
    return attachment
