"""Load the demo city `montpellier`: accounts in every college, votes, a rules amendment,
treasury movements and the signed ledger history of all of it.

Idempotent: running it again changes nothing once the demo is there.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from governance import services as gov
from governance.budget import budget_project_add, budget_vote_cast
from governance.models import City, Membership, MembershipStatus, ProposalKind
from identity.actions import AttestDocument
from identity.models import User
from identity.signed_actions import action_execute
from ledger.models import Chain
from ledger.services import chain_seal

CITY_SLUG = "montpellier"
POSTAL_CODES = ["34000", "34070", "34080", "34090"]
DEMO_PASSWORD = "smartb-demo-2026"  # noqa: S105 - documented demo login, local only
DEMO_SIRET = "73282932000074"  # a valid SIRET checksum (the demo provider's)
DEMO_ACCOUNTS = [
    # (e-mail, first name, last name, role)
    ("operator@demo.smartb.fr", "Opérateur", "SMART B", "operator"),
    ("mairie@demo.smartb.fr", "Hélène", "Durand", "municipality"),
    ("resident@demo.smartb.fr", "Camille", "Martin", "resident"),
    ("provider@demo.smartb.fr", "Vélo", "Services", "provider"),
    ("curator@demo.smartb.fr", "Samir", "Benali", "curator"),
]
# More members, so every college votes and the tally has something to count.
EXTRA_RESIDENTS = [
    ("lea@demo.smartb.fr", "Léa", "Roux", "Rue de l'Aiguillerie 3", "34000"),
    ("hugo@demo.smartb.fr", "Hugo", "Petit", "Avenue de Lodève 12", "34070"),
    ("ines@demo.smartb.fr", "Inès", "Moreau", "Rue du Faubourg Boutonnet 8", "34090"),
]
PENDING_RESIDENT = ("nouveau@demo.smartb.fr", "Noé", "Garcia", "Place de la Comédie 1", "34000")
# Public documents attested on the city chain (only their digests are recorded).
DEMO_DOCUMENTS = {
    "municipality": ["Délibération du conseil municipal n° 2026-041", "Plan vélo 2026-2030"],
    "provider": ["Registre des traitements (RGPD)"],
    "curator": ["Méthode de calcul CO2e v1"],
}

BUDGET_TITLE = "Budget participatif 2027"
BUDGET_PROJECTS = [
    # (title, description, cost in cents): A, B, C, D
    (
        "Jardin partagé du quartier Figuerolles",
        "Bacs, cabane à outils et récupérateurs.",
        2_200_000,
    ),
    ("Fresque participative de l'école Jules Ferry", "Avec les élèves et un artiste.", 1_500_000),
    ("Éclairage solaire de la piste cyclable du Lez", "Quarante bornes basse lumière.", 1_200_000),
    ("Boîtes à livres dans les parcs", "Dix boîtes fabriquées par un atelier local.", 900_000),
]
# Who picks which projects (by letter): every college votes.
BUDGET_VOTES = {
    "mairie@demo.smartb.fr": "AC",
    "resident@demo.smartb.fr": "AB",
    "curator@demo.smartb.fr": "AC",
    "lea@demo.smartb.fr": "BD",
    "hugo@demo.smartb.fr": "ACD",
    "provider@demo.smartb.fr": "CD",
}


class Command(BaseCommand):
    help = "Load (idempotently) the demo city montpellier with its members, votes and ledger."

    def handle(self, *args, **options):
        with transaction.atomic():
            users = {
                row[3]: self._account(*row[:3], staff=row[3] == "operator") for row in DEMO_ACCOUNTS
            }
            city = City.objects.filter(slug=CITY_SLUG).first()
            if city is None:
                city = self._city(users)
            self._budget_call(city)
        for chain in Chain.objects.all():
            chain_seal(chain=chain)
        self._print_logins(city)

    def _account(self, email, first, last, *, staff=False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                username=email.split("@")[0],
                email=email,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=staff,
                is_superuser=staff,
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def _city(self, users: dict[str, User]) -> City:
        operator = users["operator"]
        city = gov.city_create(
            operator=operator, slug=CITY_SLUG, name="Montpellier", postal_codes=POSTAL_CODES
        )
        staff = gov.membership_appoint(operator=operator, user=users["municipality"], city=city)
        mairie = users["municipality"]
        residents = city.colleges.get(slug="residents")
        members = {"municipality": staff}
        for role, address in (("resident", "Rue Foch 5"), ("curator", "Rue de la Loge 2")):
            request = gov.membership_request(
                user=users[role],
                city=city,
                college=residents,
                postal_address=address,
                postal_code="34000",
            )
            members[role] = gov.membership_approve(membership=request, by=mairie)
        request = gov.membership_request(
            user=users["provider"],
            city=city,
            college=city.colleges.get(slug="providers"),
            siret=DEMO_SIRET,
        )
        members["provider"] = gov.membership_approve(membership=request, by=mairie)
        extra = []
        for email, first, last, address, code in EXTRA_RESIDENTS:
            user = self._account(email, first, last)
            request = gov.membership_request(
                user=user,
                city=city,
                college=residents,
                postal_address=address,
                postal_code=code,
            )
            extra.append(gov.membership_approve(membership=request, by=mairie))
        email, first, last, address, code = PENDING_RESIDENT
        gov.membership_request(
            user=self._account(email, first, last),
            city=city,
            college=residents,
            postal_address=address,
            postal_code=code,
        )
        chain_seal(chain=city.chain)
        gov.treasury_move(
            city=city,
            label="Subvention régionale mobilité 2026",
            postings=[("bank", 5_000_000), ("grants", -5_000_000)],
        )
        self._decided_proposals(city, members, extra)
        chain_seal(chain=city.chain)
        for role, titles in DEMO_DOCUMENTS.items():
            for title in titles:
                self._attest(users[role], city.chain, title)
        self._open_proposal(members, extra)
        return city

    def _vote_and_close(self, proposal, votes: list[tuple[Membership, str]]):
        for member, choice in votes:
            gov.vote_cast(proposal=proposal, member=member, choice=choice)
        return gov.proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(minutes=1))

    def _decided_proposals(self, city: City, members: dict, extra: list) -> None:
        """A funded project and a rules amendment: voted in every college, closed, executed."""
        soon = timezone.now() + timedelta(hours=25)
        project = gov.proposal_create(
            author=members["resident"],
            kind=ProposalKind.FUND_PROJECT,
            title="Abris vélos sécurisés près des écoles",
            body="Douze abris vélos couverts et sécurisés devant les écoles du centre.",
            parameters={"amount_cents": 1_800_000, "recipient": members["provider"].identity.did},
        )
        project = gov.proposal_open(proposal=project, by=members["resident"], closes_at=soon)
        gov.comment_add(
            proposal=project,
            member=members["curator"],
            body="Bonne idée : pensez aux vélos cargos.",
        )
        self._vote_and_close(
            project,
            [
                (members["resident"], "yes"),
                (members["curator"], "yes"),
                (extra[0], "no"),
                (extra[1], "yes"),
                (members["provider"], "yes"),
                (members["municipality"], "yes"),
            ],
        )
        rules = gov.rules_in_force(city).rules
        rules["colleges"]["residents"]["quorum_percent"] = 15
        amendment = gov.proposal_create(
            author=members["municipality"],
            kind=ProposalKind.AMEND_RULES,
            title="Quorum des usagers porté à 15 %",
            body="Pour que les décisions engagent davantage d'usagers.",
            parameters={"rules": rules},
        )
        amendment = gov.proposal_open(
            proposal=amendment, by=members["municipality"], closes_at=soon
        )
        self._vote_and_close(
            amendment,
            [
                (members["municipality"], "yes"),
                (members["resident"], "yes"),
                (extra[2], "abstain"),
                (members["provider"], "no"),
                (extra[0], "yes"),
            ],
        )

    def _budget_call(self, city: City) -> None:
        """A participatory budget of 50,000 €, voted in every college, closed and executed
        (the funded projects paid). Added once, also to a demo loaded before it existed."""
        if city.proposals.filter(title=BUDGET_TITLE).exists():
            return
        members = {
            email: Membership.objects.get(
                city=city, user__email=email, status=MembershipStatus.APPROVED
            )
            for email in BUDGET_VOTES
        }
        mairie = members["mairie@demo.smartb.fr"]
        # The treasury holds 32,000 € after the bike shelters: a grant for the budget first.
        gov.treasury_move(
            city=city,
            label="Dotation budget participatif 2027",
            postings=[("bank", 3_000_000), ("grants", -3_000_000)],
        )
        call = gov.proposal_create(
            author=mairie,
            kind=ProposalKind.FUND_PROJECT,
            title=BUDGET_TITLE,
            body="50 000 € pour les projets choisis par les habitants, les prestataires et la "
            "mairie.",
            parameters={"budget_cents": 5_000_000},
        )
        provider_did = members["provider@demo.smartb.fr"].identity.did
        projects = [
            budget_project_add(
                proposal=call,
                by=mairie,
                title=title,
                description=description,
                cost_cents=cost,
                recipient=provider_did,
            )
            for title, description, cost in BUDGET_PROJECTS
        ]
        call = gov.proposal_open(
            proposal=call, by=mairie, closes_at=timezone.now() + timedelta(hours=25)
        )
        for email, letters in BUDGET_VOTES.items():
            budget_vote_cast(
                proposal=call,
                member=members[email],
                project_ids=[projects["ABCD".index(letter)].public_id for letter in letters],
            )
        call = gov.proposal_close(proposal=call, now=call.closes_at + timedelta(minutes=1))
        gov.proposal_execute(proposal=call)

    def _open_proposal(self, members: dict, extra: list) -> None:
        proposal = gov.proposal_create(
            author=members["municipality"],
            kind=ProposalKind.GENERAL,
            title="Rue scolaire avenue de Toulouse",
            body="Fermer l'avenue aux voitures aux heures d'entrée et de sortie des classes.",
        )
        gov.proposal_open(
            proposal=proposal,
            by=members["municipality"],
            closes_at=timezone.now() + timedelta(days=14),
        )
        for member, choice in ((extra[0], "yes"), (extra[1], "no"), (members["curator"], "yes")):
            gov.vote_cast(proposal=proposal, member=member, choice=choice)
        gov.proposal_create(
            author=members["resident"],
            kind=ProposalKind.GENERAL,
            title="Fontaines à eau dans les parcs",
            body="Brouillon à compléter.",
        )

    @staticmethod
    def _attest(user: User, chain: Chain, document: str) -> None:
        """`user` attests a public document on the city chain: only its SHA-256 is recorded."""
        action_execute(
            AttestDocument(),
            user=user,
            data={
                "did": user.primary_identity.did,
                "chain": chain.slug,
                "digest": hashlib.sha256(document.encode()).hexdigest(),
            },
        )

    def _print_logins(self, city: City) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo city '{city.slug}' is ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, role in DEMO_ACCOUNTS:
            user = User.objects.get(email=email)
            self.stdout.write(f"  {role:<13} {email:<28} {user.primary_identity.did}")
        pending = Membership.objects.filter(city=city, status=MembershipStatus.PENDING).count()
        self.stdout.write(f"  ({pending} membership request waiting for the municipality)")
        for chain in Chain.objects.order_by("slug"):
            self.stdout.write(
                f"  chain {chain.slug}: {chain.size} transactions, {chain.block_count} blocks"
            )
