"""Load the demo city `montpellier`: five accounts with DIDs and a ledger history to explore.

Idempotent: running it again changes nothing once the demo is there.
"""

from __future__ import annotations

import hashlib

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from identity.actions import AttestDocument
from identity.models import User
from identity.services import credential_issue, credential_revoke
from identity.signed_actions import action_execute
from ledger.models import Chain
from ledger.services import chain_create, chain_seal

CITY_SLUG = "montpellier"
DEMO_PASSWORD = "smartb-demo-2026"  # noqa: S105 - documented demo login, local only
DEMO_ACCOUNTS = [
    # (e-mail, first name, last name, role, is operator staff)
    ("resident@demo.smartb.fr", "Camille", "Martin", "resident", False),
    ("provider@demo.smartb.fr", "Vélo", "Services", "provider", False),
    ("mairie@demo.smartb.fr", "Hélène", "Durand", "municipality", False),
    ("curator@demo.smartb.fr", "Samir", "Benali", "curator", False),
    ("operator@demo.smartb.fr", "Opérateur", "SMART B", "operator", True),
]
# Public documents each account attests on the city chain (only their digests are recorded).
DEMO_DOCUMENTS = {
    "municipality": [
        "Délibération du conseil municipal n° 2026-041",
        "Budget participatif 2027",
        "Plan vélo 2026-2030",
        "Charte de la donnée",
    ],
    "provider": [
        "Conditions générales du service vélo",
        "Registre des traitements (RGPD)",
        "Audit énergétique des stations",
    ],
    "resident": ["Avis sur le plan vélo", "Pétition pour une rue scolaire"],
    "curator": ["Ontologie mobilité v1", "Méthode de calcul CO2e v1"],
}


class Command(BaseCommand):
    help = "Load (idempotently) the demo city montpellier with its accounts and ledger history."

    def handle(self, *args, **options):
        with transaction.atomic():
            city = chain_create(slug=CITY_SLUG, name="Montpellier")
            users = {row[3]: self._account(*row) for row in DEMO_ACCOUNTS}
        if Chain.objects.get(pk=city.pk).size < 20:
            self._history(city, users)
        for chain in Chain.objects.all():
            chain_seal(chain=chain)
        self._print_logins()

    def _account(self, email, first, last, role, operator) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                username=email.split("@")[0],
                email=email,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=operator,
                is_superuser=operator,
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def _history(self, city: Chain, users: dict[str, User]) -> None:
        municipality = users["municipality"].primary_identity
        credentials = []
        for role in ("resident", "provider", "curator"):
            subject = users[role].primary_identity
            credentials.append(
                credential_issue(
                    issuer=municipality,
                    subject_did=subject.did,
                    chain=city.slug,
                    types=["VerifiableCredential", "DemoCityRoleCredential"],
                    claims={"city": city.slug, "role": role},
                )
            )
        chain_seal(chain=city)
        documents = [(role, title) for role, titles in DEMO_DOCUMENTS.items() for title in titles]
        for position, (role, title) in enumerate(documents, start=1):
            self._attest(users[role], city, title)
            if position % 4 == 0:
                chain_seal(chain=city)
        # A second credential for the resident, then the first one revoked: both on the chain.
        credential_issue(
            issuer=municipality,
            subject_did=users["resident"].primary_identity.did,
            chain=city.slug,
            types=["VerifiableCredential", "DemoCityRoleCredential"],
            claims={"city": city.slug, "role": "resident", "district": "ecusson"},
        )
        credential_revoke(
            credential=credentials[0], by=municipality, reason="superseded", chain=city.slug
        )
        for role in ("resident", "provider", "municipality", "curator", "operator"):
            self._attest(users[role], city, f"charte-{role}")

    @staticmethod
    def _attest(user: User, city: Chain, document: str) -> None:
        """`user` attests a public document on the city chain: only its SHA-256 is recorded."""
        action_execute(
            AttestDocument(),
            user=user,
            data={
                "did": user.primary_identity.did,
                "chain": city.slug,
                "digest": hashlib.sha256(document.encode()).hexdigest(),
            },
        )

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo city 'montpellier' is ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, role, _operator in DEMO_ACCOUNTS:
            user = User.objects.get(email=email)
            self.stdout.write(f"  {role:<13} {email:<28} {user.primary_identity.did}")
        for chain in Chain.objects.order_by("slug"):
            self.stdout.write(
                f"  chain {chain.slug}: {chain.size} transactions, {chain.block_count} blocks"
            )
