"""Deployment by vote: the `deploy_service` proposal kind, registered with governance
(`governance.effects.register_kind`, see `MarketplaceConfig.ready`).

Parameters: `{"action": "deploy" | "undeploy" | "upgrade", "service_version": public id}`.
The legacy `{"service": public id}` of governance's first proposal form reads as a deploy.
No endpoint deploys directly: only an accepted proposal, executed, changes a Deployment.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.effects import EffectFailed
from governance.models import City, Membership, Proposal
from ledger.services import ledger_append

from ..errors import AlreadyDeployed, InvalidInput, MarketplaceError, NotAudited, NotDeployed
from ..models import DeployAction, Deployment, FeeKind, ServiceVersion, VersionStatus
from .fees import fee_charge


def _version(public_id) -> ServiceVersion:
    version = None
    if isinstance(public_id, str) and public_id:
        version = (
            ServiceVersion.objects.select_related("service").filter(public_id=public_id).first()
        )
    if version is None:
        raise InvalidInput(_("No such service version in the app store."))
    return version


def deployment_check(*, city: City, action: str, version: ServiceVersion) -> Deployment | None:
    """Whether `action` on `version` can happen in `city` now; returns the city's deployment
    of the service (active or not, None if never deployed), or raises saying why not."""
    deployment = Deployment.objects.filter(city=city, service_id=version.service_id).first()
    active = deployment is not None and deployment.active
    if action in (DeployAction.DEPLOY, DeployAction.UPGRADE) and (
        version.status != VersionStatus.AUDITED
    ):
        raise NotAudited()
    if action == DeployAction.DEPLOY and active:
        raise AlreadyDeployed()
    if action == DeployAction.UNDEPLOY and not active:
        raise NotDeployed()
    if action == DeployAction.UPGRADE:
        if not active:
            raise NotDeployed(_("An upgrade needs the service deployed in this city."))
        if deployment.version_id == version.pk:
            raise AlreadyDeployed(_("This city already runs this version."))
    return deployment


def deploy_parameters_validate(
    *, city: City, parameters: dict, author: Membership | None = None
) -> dict:
    """Clean the parameters of a deploy_service draft, or refuse: an unknown or unaudited
    version, deploying what is already deployed, undeploying what is not, upgrading to the
    version already running."""
    if not isinstance(parameters, dict):
        raise InvalidInput(_("The parameters are a JSON object."))
    action = parameters.get("action", DeployAction.DEPLOY)
    if action not in DeployAction.values:
        raise InvalidInput(_("The action is deploy, undeploy or upgrade."))
    version = _version(parameters.get("service_version", parameters.get("service")))
    deployment_check(city=city, action=action, version=version)
    return {"action": str(action), "service_version": version.public_id}


def deploy_effect_execute(*, proposal: Proposal) -> dict:
    """Carry out an accepted deploy_service proposal, inside its execution's transaction:
    create or update the city's Deployment, charge the version's deployment fee (deploy and
    upgrade) into the treasury with its split, and record it on the city's chain.

    Idempotent: a deployment this proposal already changed is reported, not changed again.
    Raises EffectFailed (the proposal is marked failed, nothing written) when the effect can
    no longer happen, e.g. the version lost its audit or the service was deployed meanwhile.
    """
    city = proposal.city
    action = proposal.parameters.get("action", DeployAction.DEPLOY)
    try:
        public_id = proposal.parameters.get("service_version", proposal.parameters.get("service"))
        version = (
            ServiceVersion.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(public_id=public_id)
            .first()
        )
        if version is None:
            raise InvalidInput(_("No such service version in the app store."))
        done = Deployment.objects.filter(city=city, proposal=proposal).first()
        if done is not None:
            return _summary(action, done, fee_cents=0)
        locked = (
            Deployment.objects.select_for_update()
            .filter(city=city, service_id=version.service_id)
            .first()
        )
        deployment_check(city=city, action=action, version=version)
    except MarketplaceError as error:
        raise EffectFailed(error.message) from error
    now = timezone.now()
    if locked is None:
        try:
            with transaction.atomic():
                locked = Deployment.objects.create(
                    city=city,
                    service=version.service,
                    version=version,
                    proposal=proposal,
                    deployed_at=now,
                )
        except IntegrityError as error:  # another decision deployed it meanwhile
            raise EffectFailed(AlreadyDeployed.default_message) from error
    elif action == DeployAction.UNDEPLOY:
        locked.active = False
        locked.undeployed_at = now
        locked.proposal = proposal
        locked.save(update_fields=["active", "undeployed_at", "proposal"])
    else:
        if action == DeployAction.DEPLOY:
            locked.deployed_at = now
        locked.version = version
        locked.active = True
        locked.undeployed_at = None
        locked.proposal = proposal
        locked.save(update_fields=["version", "active", "deployed_at", "undeployed_at", "proposal"])
    fee_cents = 0
    movement = None
    if action != DeployAction.UNDEPLOY and version.deployment_fee_cents:
        fee = fee_charge(
            deployment=locked,
            kind=FeeKind.DEPLOYMENT,
            amount_cents=version.deployment_fee_cents,
            label=proposal.title,
            proposal=proposal,
        )
        fee_cents, movement = fee.amount_cents, fee.movement.public_id
    ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind=f"marketplace.deployment.{action}",
        payload={
            "deployment": locked.public_id,
            "proposal": proposal.public_id,
            "service": version.service.public_id,
            "service_version": version.public_id,
            "active": locked.active,
            "fee_cents": fee_cents,
            "movement": movement,
        },
    )
    return _summary(action, locked, fee_cents=fee_cents)


def _summary(action: str, deployment: Deployment, *, fee_cents: int) -> dict:
    return {
        "effect": {"deploy": "deployed", "undeploy": "undeployed", "upgrade": "upgraded"}[action],
        "deployment": deployment.public_id,
        "service_version": deployment.version.public_id,
        "fee_cents": fee_cents,
    }
