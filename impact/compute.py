"""A methodology applied to measured values: check them against its parameters (names,
kinds, bounds) and compute the quantity, an integer in the token class's smallest unit.
The claimant's service, the platform at creation and the curator at verification all run
this same function."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from . import formulas
from .errors import InvalidParameters
from .models import Methodology, ParameterKind


def clean_parameters(methodology: Methodology, values) -> dict[str, str]:
    """The measured values as canonical decimal strings, by parameter name; refuses a
    missing or unknown name, a float, a fraction for an integer, a value out of bounds."""
    if not isinstance(values, dict):
        raise InvalidParameters(_("The measured values are a JSON object."))
    parameters = {p.name: p for p in methodology.parameters.all()}
    unknown = set(values) - set(parameters)
    missing = set(parameters) - set(values)
    if unknown or missing:
        raise InvalidParameters(
            _("Give exactly the methodology's parameters: %(names)s.")
            % {"names": ", ".join(sorted(parameters))}
        )
    clean = {}
    for name, parameter in parameters.items():
        try:
            value = formulas.parse_decimal(values[name])
        except formulas.FormulaError as error:
            raise InvalidParameters(
                _('%(name)s: give a decimal number as text, e.g. "12.5".') % {"name": name}
            ) from error
        if parameter.kind == ParameterKind.INTEGER and value != value.to_integral_value():
            raise InvalidParameters(_("%(name)s is a whole number.") % {"name": name})
        if parameter.min_value is not None and value < parameter.min_value:
            raise InvalidParameters(
                _("%(name)s is at least %(min)s.") % {"name": name, "min": parameter.min_value}
            )
        if parameter.max_value is not None and value > parameter.max_value:
            raise InvalidParameters(
                _("%(name)s is at most %(max)s.") % {"name": name, "max": parameter.max_value}
            )
        clean[name] = _canonical(value)
    return clean


def _canonical(value: Decimal) -> str:
    """One spelling per number: no exponent, no trailing zeros ("12.50" → "12.5")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def compute_quantity(methodology: Methodology, parameters: dict[str, str]) -> int:
    """The quantity the methodology gives for clean `parameters`, in the smallest unit of
    its token class, rounded down."""
    values = {name: Decimal(text) for name, text in parameters.items()}
    for factor in methodology.factors.all():
        values[factor.name] = Decimal(factor.value)
    try:
        result = formulas.evaluate(methodology.formula, values)
        return formulas.to_smallest_unit(result, methodology.token_class.precision)
    except formulas.FormulaError as error:
        raise InvalidParameters(
            _("These values give no valid quantity with this methodology (%(why)s).")
            % {"why": str(error)}
        ) from error


def missing_requirements(claim) -> list[str]:
    """The codes of the methodology's requirements (CCCEV) this claim does not meet yet: no
    evidence of any of the requirement's evidence types, or no value for one of its
    information concepts. Empty: the claim is complete. Two queries."""
    from .models import Evidence, InformationConcept, Requirement

    requirements = list(
        Requirement.objects.filter(methodology_id=claim.methodology_id).prefetch_related(
            "evidence_types"
        )
    )
    proven = set(Evidence.objects.filter(claim=claim).values_list("evidence_type_id", flat=True))
    concepts = InformationConcept.objects.filter(
        requirement__methodology_id=claim.methodology_id
    ).select_related("parameter")
    valued = set(claim.parameters or {})
    lacking_value = {
        concept.requirement_id
        for concept in concepts
        if concept.parameter is not None and concept.parameter.name not in valued
    }
    missing = []
    for requirement in requirements:
        types = {t.pk for t in requirement.evidence_types.all()}
        if (types and not types & proven) or requirement.pk in lacking_value:
            missing.append(requirement.code)
    return missing
