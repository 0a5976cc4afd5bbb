"""What the governance API tests share: a token-authenticated JSON client, the world built
through the services, and the checks on the API's error body."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance import services
from governance.models import (
    Ballot,
    City,
    Comment,
    Membership,
    Movement,
    Proposal,
)
from identity.models import Custody, User
from identity.services import identity_revoke
from ledger.models import Transaction
from tests.factories import UserFactory
from tests.identity.support import ClientKey

API = "/api/v1/governance"
POSTAL_CODES = ["01000", "01440"]
ADDRESS = "3 rue des Lilas"
VALID_SIRET = "73282932000074"
INVALID_SIRET = "73282932000075"
VOTING_HOURS = 48


class Api:
    """A JSON client of /api/v1/governance: `Authorization: Token <key>` for a user, nothing
    for an anonymous visitor."""

    def __init__(self, user: User | None = None) -> None:
        self.user = user
        self.client = Client(HTTP_ACCEPT_LANGUAGE="en")
        self.headers = {}
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            self.headers["HTTP_AUTHORIZATION"] = f"Token {token.key}"

    def url(self, path: str) -> str:
        return path if path.startswith("/api/") else f"{API}/{path}"

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.url(path), params or {}, **self.headers)

    def post(self, path: str, data=None, *, raw: str | None = None):
        body = raw if raw is not None else json.dumps({} if data is None else data)
        return self.client.post(
            self.url(path), data=body, content_type="application/json", **self.headers
        )


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The API's error body: `{"error": {"code", "message"}}` with the right status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def make_city(operator: User, slug: str, postal_codes: list[str]) -> City:
    return services.city_create(
        operator=operator, slug=slug, name=slug.capitalize(), postal_codes=postal_codes
    )


def appoint(city: City, operator: User, user: User | None = None) -> Membership:
    return services.membership_appoint(operator=operator, user=user or UserFactory(), city=city)


def ask(
    city: City,
    college: str,
    user: User | None = None,
    *,
    address: str = ADDRESS,
    siret: str = VALID_SIRET,
) -> Membership:
    """A pending request with valid evidence for `college`."""
    evidence = {
        "residents": {"postal_address": address, "postal_code": city.postal_codes[0]},
        "providers": {"siret": siret},
    }[college]
    return services.membership_request(
        user=user or UserFactory(),
        city=city,
        college=city.colleges.get(slug=college),
        **evidence,
    )


def join(city: City, college: str, *, by: User, user: User | None = None, **evidence) -> Membership:
    """An approved member of `college`, approved by municipality staff `by`."""
    return services.membership_approve(membership=ask(city, college, user, **evidence), by=by)


def self_custody_member(city: City, college: str, *, by: User, key: ClientKey) -> Membership:
    """An approved member whose membership DID is `key`, a self-custody key registered
    through the identity API (prepare, sign, submit).

    The governance services take a member's DID from the account's primary one and offer no
    way to pick another: the account retires its custodial DID first, so that its own key is
    the only one left when it asks to join."""
    user = UserFactory()
    client = Api(user)
    prepared = client.post("/api/v1/identity/keys/prepare", {"did": key.did, "label": "mine"})
    assert prepared.status_code == 200, prepared.content
    registered = client.post(
        "/api/v1/identity/keys",
        {
            "did": key.did,
            "label": "mine",
            "created_at": prepared.json()["created_at"],
            "signature": key.sign_prepared(prepared.json()),
        },
    )
    assert registered.status_code == 201, registered.content
    custodial = user.identities.get(custody=Custody.CUSTODIAL)
    identity_revoke(identity=custodial, by=custodial)
    membership = join(city, college, by=by, user=user)
    assert membership.identity.did == key.did
    return membership


def draft(author: Membership, kind: str = "general", **parameters) -> Proposal:
    return services.proposal_create(
        author=author,
        kind=kind,
        title="Rénover le lavoir",
        body="Le lavoir du centre a besoin d'un toit.",
        parameters=parameters,
    )


def open_vote(proposal: Proposal, *, by: Membership | None = None) -> Proposal:
    return services.proposal_open(
        proposal=proposal,
        by=by or proposal.author,
        closes_at=timezone.now() + timedelta(hours=VOTING_HOURS),
    )


def close(proposal: Proposal) -> Proposal:
    closes_at = Proposal.objects.get(pk=proposal.pk).closes_at
    return services.proposal_close(proposal=proposal, now=closes_at + timedelta(seconds=1))


def world() -> dict:
    """Every row a refused API call must leave alone."""
    return {
        "transactions": Transaction.objects.count(),
        "memberships": list(
            Membership.objects.order_by("pk").values_list("pk", "status", "reason")
        ),
        "proposals": list(
            Proposal.objects.order_by("pk").values_list("pk", "status", "title", "closes_at")
        ),
        "ballots": list(Ballot.objects.order_by("pk").values_list("pk", "choice", "entry_id")),
        "comments": Comment.objects.count(),
        "movements": Movement.objects.count(),
    }
