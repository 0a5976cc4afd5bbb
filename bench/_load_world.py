"""The world of `bench/load.py`, built through the services (every signed ledger entry
included) in the measuring process, with Celery eager, before gunicorn and the worker start.

One city, because that is where the work of a city meets: its residents browse and vote, a
provider reads a personal dataset about them through the data API, and a curator approves
impact claims, all of it appended to the same city chain.

- the operator, the city (`bench-load`), its mayor (municipality staff);
- `residents` approved resident members, each with a DRF token and a signed-in session
  (a `sessionid` cookie made by `django.test.Client.force_login`);
- a curator (a resident granted the role by the mayor) with a token;
- a provider member (SIRET with a valid checksum) with a token, consumer of the data;
- `proposals` open general proposals, each with the electorate snapshot of every member and
  the vote changeable until the close; every resident has voted once on the first one (so
  that each has a ballot whose receipt to ask for);
- a personal dataset of about 4 KiB about the first 8 residents (hosted encrypted), a free
  offer with a purpose constraint, `agreements` agreements accepted by the provider and
  consented by each of those residents;
- `claims` impact claims created, evidenced and submitted by the residents, waiting for the
  curator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench._common import join_resident, log, make_user, siret

CITY_SLUG = "bench-load"
DATA_SUBJECTS = 8


@dataclass
class World:
    """What the load generator needs: paths, headers and the ids the checks read back."""

    city_id: int
    chain_id: int
    slug: str
    proposal_ids: list[str]
    resident_tokens: list[str]
    resident_sessions: list[str]
    curator_token: str
    provider_token: str
    agreement_ids: list[str]
    claims: list[tuple[str, int]]  # (public_id, quantity) of the submitted claims
    summary: dict = field(default_factory=dict)


def _member_token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def _session_cookie(user) -> str:
    """A real signed-in session (database backend) for `user`: login() as the site does it,
    so the session's login and last-use marks are there."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world(*, residents: int, proposals: int, agreements: int, claims: int) -> World:
    from bench.governance import open_general
    from bench.impact import methodologies, submitted_claim
    from bench.marketplace import PERSONAL_POLICY, metadata, personal_csv
    from governance import services as gov
    from governance.actions import CastVote
    from identity.signed_actions import action_execute
    from impact.services import curator_grant
    from marketplace.data.models import AgreementStatus
    from marketplace.data.services import HostedFile, dataset_create, dataset_version_add
    from marketplace.data.services.consents import consent_decide
    from marketplace.data.services.contracts import agreement_accept, offer_create, quote_create

    started = time.perf_counter()
    operator = make_user("load-operator", is_staff=True)
    city = gov.city_create(
        operator=operator, slug=CITY_SLUG, name="Ville de charge", postal_codes=["01000"]
    )
    mayor = gov.membership_appoint(operator=operator, user=make_user("load-mayor"), city=city)
    log(f"world: {residents} residents (membership_request + membership_approve each)")
    members = []
    for i in range(residents):
        members.append(join_resident(city, mayor.user, f"load-resident-{i:04d}"))
        if i % 50 == 49:
            log(f"world: {i + 1} residents approved")
    curator = join_resident(city, mayor.user, "load-curator")
    curator_grant(city=city, membership=curator, by=mayor.user)
    provider = make_user("load-provider")
    gov.membership_approve(
        membership=gov.membership_request(
            user=provider, city=city, college=city.colleges.get(slug="providers"), siret=siret(7)
        ),
        by=mayor.user,
    )
    members_seconds = time.perf_counter() - started

    log(f"world: {proposals} open proposals (electorate snapshot of every member)")
    opened = [
        open_general(mayor, mayor, f"Proposition de charge {p + 1}") for p in range(proposals)
    ]
    if not all(p.rules.rules.get("vote_changeable") for p in opened):
        raise RuntimeError("the default rules no longer let a vote change: the load needs it")

    log("world: each resident votes once on the first proposal (signed, on the ledger)")
    cast = CastVote()
    for i, member in enumerate(members):
        data = {"proposal": opened[0], "member": member, "choice": ("yes", "no", "abstain")[i % 3]}
        action_execute(cast, user=member.user, data=data)

    log(f"world: a personal dataset about {DATA_SUBJECTS} residents, {agreements} agreements")
    subjects = members[:DATA_SUBJECTS]
    dids = [m.identity.did for m in subjects]
    dataset = dataset_create(
        by=mayor.user,
        city=city,
        metadata=metadata(),
        publisher_kind="municipality",
        is_personal=True,
        subject_dids=dids,
    )
    dataset_version_add(
        by=mayor.user,
        dataset=dataset,
        files=[HostedFile(content=[personal_csv(dids, 4096)], format="CSV", media_type="text/csv")],
    )
    offer = offer_create(
        dataset=dataset, by=mayor.user, policy=PERSONAL_POLICY, pricing_model="free"
    )
    agreement_ids = []
    for _ in range(agreements):
        quote = quote_create(offer=offer, consumer=provider)
        agreement = agreement_accept(quote=quote, consumer=provider, purposes=["research"])
        for consent in agreement.consents.select_related("subject"):
            member = next(m for m in subjects if m.identity_id == consent.subject_id)
            consent_decide(consent=consent, user=member.user, give=True)
        agreement.refresh_from_db()
        if agreement.status != AgreementStatus.ACTIVE:
            raise RuntimeError(f"agreement not active after the consents: {agreement.status}")
        agreement_ids.append(agreement.public_id)

    log(f"world: {claims} impact claims created, evidenced and submitted")
    claims_started = time.perf_counter()
    meths = methodologies()
    pool = []
    for i in range(claims):
        member = members[i % len(members)]
        claim = submitted_claim(member, meths[(i // len(members)) % len(meths)], i)
        pool.append((claim.public_id, int(claim.quantity)))
        if i % 100 == 99:
            log(f"world: {i + 1} claims submitted")
    claims_seconds = time.perf_counter() - claims_started

    log("world: tokens and signed-in sessions")
    world = World(
        city_id=city.pk,
        chain_id=city.chain_id,
        slug=city.slug,
        proposal_ids=[p.public_id for p in opened],
        resident_tokens=[_member_token(m.user) for m in members],
        resident_sessions=[_session_cookie(m.user) for m in members],
        curator_token=_member_token(curator.user),
        provider_token=_member_token(provider),
        agreement_ids=agreement_ids,
        claims=pool,
    )
    world.summary = {
        "residents": residents,
        "proposals": proposals,
        "agreements": agreements,
        "consents": agreements * DATA_SUBJECTS,
        "claims": claims,
        "first_votes": len(members),
        "members_seconds": members_seconds,
        "claims_seconds": claims_seconds,
        "seconds": time.perf_counter() - started,
    }
    return world
