"""Providers: organisations that bring services to the cities."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

from governance.errors import InvalidSiret
from governance.models import CollegeKind, Membership, MembershipStatus
from identity.models import User
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import ledger_append

from ..errors import AlreadyRegistered, InvalidInput, NotAllowed
from ..models import Provider
from ..permissions import can_register_provider
from ._common import clean_text, sha256_text, signer_of


@transaction.atomic
def provider_register(
    *, by: User, owner: User, name: str, siret: str, website: str = ""
) -> Provider:
    """Register a provider organisation owned by `owner`, whose DID signs for it.

    The operator registers any provider; an approved member of a providers college of some
    city registers their own (that membership is kept). The SIRET is checked (Luhn, as
    governance does) and unique. The network chain records it, signed by `by`: the
    provider's id, the owner's DID and the digests of its name and SIRET.
    """
    if not can_register_provider(by, owner):
        raise NotAllowed(
            _(
                "Only the operator, or an approved member of a providers college registering "
                "their own organisation, registers a provider."
            )
        )
    name = clean_text(name, what=_("The name"), max_length=200)
    website = clean_text(website, what=_("The website"), max_length=200, required=False)
    if website and not website.startswith(("https://", "http://")):
        raise InvalidInput(_("A website address starts with https://"))
    if not isinstance(siret, str) or not stdnum_siret.is_valid(siret):
        raise InvalidSiret()
    siret = stdnum_siret.compact(siret)
    if Provider.objects.filter(siret=siret).exists():
        raise AlreadyRegistered()
    identity = signer_of(owner) if by.pk == owner.pk else owner.primary_identity
    if identity is None:
        raise InvalidInput(_("The owner's account has no active DID."))
    membership = (
        Membership.objects.filter(
            user=owner, status=MembershipStatus.APPROVED, college__kind=CollegeKind.PROVIDERS
        )
        .order_by("pk")
        .first()
    )
    provider = Provider(
        name=name,
        siret=siret,
        website=website,
        owner=owner,
        identity=identity,
        registered_by=by,
        membership=membership,
    )
    provider.entry = ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=signer_of(by),
        kind="marketplace.provider.register",
        payload={
            "provider": provider.public_id,
            "owner": identity.did,
            "name": sha256_text(name),
            "siret": sha256_text(siret),
            "membership": membership.public_id if membership else None,
        },
    )
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as error:  # a concurrent registration of the same SIRET won
        raise AlreadyRegistered() from error
    return provider
