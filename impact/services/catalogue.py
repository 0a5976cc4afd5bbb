"""The catalogue: SDG goals, targets, indicators, token classes and methodologies."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG

from .. import formulas
from ..catalogue import catalogue_data, catalogue_load, live_models
from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import Methodology, MethodologyStatus
from ._common import record, signer_of


@transaction.atomic
def impact_load_catalogue(data: dict | None = None) -> dict[str, int]:
    """Load `impact/data/sdg.json` (or `data`): idempotent, called by the data migration and
    by tests whose database was flushed. A methodology version already present is never
    changed."""
    return catalogue_load(live_models(), data)


@transaction.atomic
def methodology_publish(*, by: User, definition: dict) -> Methodology:
    """The operator publishes a new methodology version (same shape as the entries of
    sdg.json's `methodologies`); the earlier versions of the code are retired. Recorded on
    the network chain with the definition's digest."""
    from ..catalogue import _check_methodology, _methodology_create, methodology_digest
    from ..models import Indicator, TokenClass

    if not by.is_staff:
        raise NotAllowed(_("Only the operator publishes methodologies."))
    try:
        _check_methodology(definition)
        code, version = definition["code"], definition["version"]
        indicators = {i.code: i for i in Indicator.objects.filter(code=definition["indicator"])}
        classes = {c.code: c for c in TokenClass.objects.filter(code=definition["token_class"])}
        if not indicators or not classes:
            raise InvalidInput(_("Unknown indicator or token class."))
    except (KeyError, TypeError, ValueError, formulas.FormulaError) as error:
        raise InvalidInput(_("This methodology definition is not valid.")) from error
    if (
        type(version) is not int
        or Methodology.objects.filter(code=code, version__gte=version).exists()
    ):
        raise WrongState(_("A methodology version is new and greater than the last one."))
    Methodology.objects.filter(code=code, status=MethodologyStatus.ACTIVE).update(
        status=MethodologyStatus.RETIRED
    )
    try:
        methodology = _methodology_create(live_models(), definition, indicators, classes)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(_("This methodology definition is not valid.")) from error
    record(
        chain=NETWORK_CHAIN_SLUG,
        actor=signer_of(by),
        kind="impact.methodology.publish",
        payload={
            "methodology": methodology.public_id,
            "code": methodology.code,
            "version": methodology.version,
            "digest": methodology_digest(definition),
        },
    )
    return methodology


__all__ = ["catalogue_data", "impact_load_catalogue", "methodology_publish"]
