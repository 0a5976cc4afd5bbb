"""Load the demo city `montpellier`: accounts in every college, votes, a rules amendment,
treasury movements, an app store with services in every state, and the signed ledger
history of all of it.

Idempotent: running it again changes nothing once the demo is there.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from governance import services as gov
from governance.budget import budget_project_add, budget_vote_cast
from governance.models import City, Membership, MembershipStatus, ProposalKind
from identity.actions import AttestDocument
from identity.models import User
from identity.signed_actions import action_execute
from ledger.models import Chain
from ledger.services import chain_seal
from marketplace import services as store
from marketplace.models import Provider, Task, TaskStatus
from smartb.middleware import must_use_mfa

from ._demo_cooperative import seed_cooperative
from ._demo_data_billing import seed_data_billing
from ._demo_simulation import seed_simulation
from ._demo_validators import seed_validators
from ._demo_witnesses import seed_witnesses

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


# The app store: providers and their services, in every state a service can be in.
APP_STORE_PROVIDERS = [
    # (owner's e-mail, first name, last name, organisation, SIRET, website); the first is the
    # demo provider, a member of the city's providers college, who registers its own.
    ("provider@demo.smartb.fr", "", "", "Vélo Services", DEMO_SIRET, "https://velo.example.fr"),
    (
        "energie@demo.smartb.fr",
        "Claire",
        "Fabre",
        "Énergies Citoyennes SCIC",
        "55208131766522",
        "https://energies-citoyennes.example.fr",
    ),
    (
        "civiclab@demo.smartb.fr",
        "Yanis",
        "Haddad",
        "Civic Lab",
        "44306184100047",
        "https://civiclab.example.fr",
    ),
]
# state: deployed (by a past, executed vote), voting (an open vote), audited, in_audit,
# rejected (the legal review failed, with its reason).
APP_STORE_SERVICES = [
    {
        "provider": "Vélo Services",
        "state": "deployed",
        "name": "Vélos partagés Montpellier",
        "description": "Des vélos et vélos cargos en libre-service, réservés depuis le "
        "téléphone, rendus à n'importe quelle station.",
        "category": "mobility",
        "declaration": {
            "personal_data": ["identifiant de compte", "trajets (stations de départ et d'arrivée)"],
            "data_subjects": ["usagers du service"],
            "purposes": "Réserver un vélo, facturer la location et entretenir la flotte.",
            "legal_basis": "contract",
            "retention": "13 mois après la dernière location",
            "recipients": ["service client de Vélo Services"],
            "impact_indicators": ["11.2.1", "11.6.2"],
        },
        "fees": (150_000, 40),
    },
    {
        "provider": "Vélo Services",
        "state": "in_audit",
        "name": "Itinéraires cyclables sûrs",
        "description": "Propose l'itinéraire le plus sûr à vélo, d'après les signalements des "
        "cyclistes et les aménagements de la ville.",
        "category": "mobility",
        "declaration": {
            "personal_data": ["position approximative pendant le calcul"],
            "data_subjects": ["cyclistes utilisateurs"],
            "purposes": "Calculer un itinéraire ; rien n'est conservé après le calcul.",
            "legal_basis": "consent",
            "retention": "aucune conservation",
            "impact_indicators": ["11.2.1"],
        },
        "fees": (50_000, 5),
    },
    {
        "provider": "Énergies Citoyennes SCIC",
        "state": "voting",
        "name": "Compteur solaire des écoles",
        "description": "Affiche en temps réel la production des panneaux solaires posés sur "
        "les toits des écoles, pour les élèves et les habitants.",
        "category": "energy",
        "declaration": {
            "purposes": "Publier la production d'électricité des toits des écoles.",
            "legal_basis": "public_task",
            "retention": "5 ans (données de production, sans donnée personnelle)",
            "impact_indicators": ["7.2.1", "13.2.2"],
        },
        "fees": (80_000, 0),
    },
    {
        "provider": "Énergies Citoyennes SCIC",
        "state": "audited",
        "name": "Éclairage public adaptatif",
        "description": "Module l'éclairage des rues selon la présence de piétons et de "
        "cyclistes, pour économiser l'énergie sans laisser personne dans le noir.",
        "category": "energy",
        "declaration": {
            "purposes": "Régler l'intensité de l'éclairage public.",
            "legal_basis": "public_task",
            "retention": "24 heures (comptages anonymes)",
            "recipients": ["services techniques de la ville"],
            "impact_indicators": ["7.3.1"],
        },
        "fees": (250_000, 2),
    },
    {
        "provider": "Civic Lab",
        "state": "rejected",
        "name": "Caméras de comptage piétons",
        "description": "Compte les passants des rues commerçantes à partir d'images de caméras.",
        "category": "safety",
        "declaration": {
            "personal_data": ["images vidéo des passants"],
            "data_subjects": ["passants"],
            "purposes": "Compter la fréquentation des rues commerçantes.",
            "legal_basis": "legitimate_interests",
            "retention": "6 mois",
            "recipients": ["Civic Lab", "union des commerçants"],
            "impact_indicators": ["11.7.1"],
        },
        "fees": (120_000, 1),
        "rejection": "Les visages ne sont pas floutés à la source et une conservation de six "
        "mois des images n'est pas justifiée pour un comptage : refaire le comptage sur "
        "l'appareil, sans conserver d'image.",
    },
]
# Audits carry a bounty paid by the operator (demo amounts).
DEMO_AUDIT_REWARDS = {"technical": 30_000, "legal": 20_000}
DEMO_EXECUTIONS = ["trajet-2026-0001", "trajet-2026-0002", "trajet-2026-0003", "trajet-2026-0004"]


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
            seed_validators(city)
            self._app_store(city)
            self._budget_call(city)
            _seed_impact(city, account=self._account)
            seed_simulation(city)
            _seed_data_marketplace(self, city)
            seed_data_billing(city)  # montpellier's own (fictitious) creditor account
            seed_cooperative()  # the operator's cooperative, after every demo account
        for chain in Chain.objects.all():
            chain_seal(chain=chain)
        seed_witnesses(self)
        self._print_logins(city)
        self._demo_mfa()

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
        # Before the open proposal, so that it stays among the latest proposals shown.
        self._app_store(city)
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

    def _app_store(self, city: City) -> None:
        """Providers with services in every state: deployed by a past vote (with recorded
        executions whose fees are in the treasury), proposed in an open vote, audited,
        awaiting audit, rejected with a reason; the audits' bounties, one of them paid.
        Added once, also to a demo loaded before the app store existed."""
        if Provider.objects.filter(siret=DEMO_SIRET).exists():
            return
        operator = User.objects.get(email="operator@demo.smartb.fr")
        providers = {}
        for email, first, last, name, siret, website in APP_STORE_PROVIDERS:
            owner = self._account(email, first, last)
            by = owner if email == "provider@demo.smartb.fr" else operator
            providers[name] = store.provider_register(
                by=by, owner=owner, name=name, siret=siret, website=website
            )
        members = {
            m.user.email: m
            for m in Membership.objects.filter(
                city=city, status=MembershipStatus.APPROVED
            ).select_related("user")
        }
        mairie = members["mairie@demo.smartb.fr"]
        for spec in APP_STORE_SERVICES:
            provider = providers[spec["provider"]]
            version = self._store_version(provider, spec, operator)
            if spec["state"] == "deployed":
                self._deployed_by_vote(city, version, mairie, members)
            elif spec["state"] == "voting":
                proposal = gov.proposal_create(
                    author=members["resident@demo.smartb.fr"],
                    kind=ProposalKind.DEPLOY_SERVICE,
                    title=f"Déployer {version.service.name}",
                    body="Les élèves verraient ce que produisent les toits de leur école.",
                    parameters={"action": "deploy", "service_version": version.public_id},
                )
                proposal = gov.proposal_open(
                    proposal=proposal,
                    by=mairie,
                    closes_at=timezone.now() + timedelta(days=10),
                )
                for email, choice in (("lea@demo.smartb.fr", "yes"), ("ines@demo.smartb.fr", "no")):
                    gov.vote_cast(proposal=proposal, member=members[email], choice=choice)
        # The operator pays the bounties of the audits it completed for the deployed service.
        deployed = providers["Vélo Services"].services.get(name=APP_STORE_SERVICES[0]["name"])
        for task in Task.objects.filter(
            work_type__model="serviceversion",
            work_id__in=deployed.versions.values("pk"),
            status=TaskStatus.COMPLETED,
        ):
            store.task_pay(task=task, by=operator)

    @staticmethod
    def _store_version(provider, spec: dict, operator: User):
        """List the service and its version 1, then take it as far as its state says."""
        owner = provider.owner
        service = store.service_create(
            provider=provider,
            by=owner,
            name=spec["name"],
            description=spec["description"],
            category=spec["category"],
            website=provider.website,
        )
        deployment_fee, execution_fee = spec["fees"]
        version = store.version_create(
            service=service,
            by=owner,
            label="1.0",
            deployment_fee_cents=deployment_fee,
            execution_fee_cents=execution_fee,
            **spec["declaration"],
        )
        with override_settings(SMARTB_AUDIT_REWARD_CENTS=DEMO_AUDIT_REWARDS):
            store.audit_request(version=version, by=owner)
        if spec["state"] == "in_audit":
            return version
        store.audit_record(
            version=version,
            auditor=operator,
            kind="technical",
            findings="Code et hébergement vérifiés : chiffrement au repos, journaux signés.",
            verdict="pass",
        )
        rejection = spec.get("rejection")
        store.audit_record(
            version=version,
            auditor=operator,
            kind="legal",
            findings="Déclaration RGPD relue par le DPO du réseau."
            + (" Non conforme." if rejection else " Conforme."),
            verdict="fail" if rejection else "pass",
            reason=rejection or "",
        )
        version.refresh_from_db()
        return version

    def _deployed_by_vote(self, city: City, version, mairie, members: dict) -> None:
        """The municipality proposes the deployment; the colleges vote yes; it is closed and
        executed (the deployment fee charged); the provider records a few executions."""
        proposal = gov.proposal_create(
            author=mairie,
            kind=ProposalKind.DEPLOY_SERVICE,
            title=f"Déployer {version.service.name}",
            body="Des vélos partagés dans toute la ville, stations près des écoles.",
            parameters={"action": "deploy", "service_version": version.public_id},
        )
        proposal = gov.proposal_open(
            proposal=proposal, by=mairie, closes_at=timezone.now() + timedelta(hours=25)
        )
        voters = ["mairie@demo.smartb.fr", "resident@demo.smartb.fr", "hugo@demo.smartb.fr"]
        proposal = self._vote_and_close(
            proposal,
            [(members[email], "yes") for email in voters]
            + [(members["provider@demo.smartb.fr"], "abstain")],
        )
        proposal = gov.proposal_execute(proposal=proposal)
        deployment = proposal.deployments.get()
        for reference in DEMO_EXECUTIONS:
            store.execution_record(
                deployment=deployment, reference=reference, by=version.service.provider.owner
            )

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

    # MFA is required of the operator, municipality staff and curators (must_use_mfa). Demo
    # only: those accounts share this TOTP secret, printed below, for an authenticator app;
    # the browser tests compute their codes from the database (tests/e2e/conftest.py).
    DEMO_TOTP_SECRET = "SMARTBDEMOMFASECRETKEYFORTOTP234"  # noqa: S105 - documented, local only

    def _demo_mfa(self) -> None:
        emails = []
        for user in User.objects.filter(email__endswith="@demo.smartb.fr").order_by("email"):
            if must_use_mfa(user):
                if not Authenticator.objects.filter(user=user, type="totp").exists():
                    TOTP.activate(user, self.DEMO_TOTP_SECRET)
                emails.append(user.email)
        self.stdout.write(
            f"MFA (TOTP) of {', '.join(emails)}: add the secret {self.DEMO_TOTP_SECRET} to an "
            "authenticator app, or print the current code with\n"
            '  .venv/bin/python manage.py shell -c "import time; from allauth.mfa.totp.internal'
            ".auth import format_hotp_value as f, hotp_value as h; "
            f"print(f(h('{self.DEMO_TOTP_SECRET}', int(time.time()) // 30)))\""
        )

    def _print_logins(self, city: City) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo city '{city.slug}' is ready."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, role in DEMO_ACCOUNTS:
            user = User.objects.get(email=email)
            self.stdout.write(f"  {role:<13} {email:<28} {user.primary_identity.did}")
        for email, *_names, organisation, _siret, _site in APP_STORE_PROVIDERS[1:]:
            self.stdout.write(f"  {'provider':<13} {email:<28} ({organisation})")
        pending = Membership.objects.filter(city=city, status=MembershipStatus.PENDING).count()
        self.stdout.write(f"  ({pending} membership request waiting for the municipality)")
        for chain in Chain.objects.order_by("slug"):
            self.stdout.write(
                f"  chain {chain.slug}: {chain.size} transactions, {chain.block_count} blocks"
            )


def _seed_data_marketplace(command: Command, city: City) -> None:
    """The data marketplace (issue 5), added once, also to a demo loaded before it existed.

    The city's curators college with a curator of its own, `donnees@demo.smartb.fr` (a city
    member has one live membership per city, and curator@ stays a resident); two accepted
    ontologies and one waiting for the curators (files in demo_data/); open datasets hosted
    encrypted (bike counters, air quality) and a personal dataset about the demo residents
    (records carrying their DIDs); field links curated (two accepted, each with its curator's
    reward, one pending); offers (free, per request, per record); an agreement of Civic Lab
    on the personal data with its consents (given, refused, one still asked), deliveries, a
    consent revoked with its purge acknowledged, and the invoice, paid from a prepaid balance.
    """
    from pathlib import Path

    from marketplace.data import services as data
    from marketplace.data.models import Dataset
    from marketplace.data.permissions import CURATORS_SLUG
    from marketplace.data.services import access, billing, consents, contracts, wallet

    files = Path(__file__).resolve().parent / "demo_data"
    bikes_title = "Compteurs vélo : passages par jour"
    if not Dataset.objects.filter(city=city, title=bikes_title).exists():
        members = {
            m.user.email: m
            for m in Membership.objects.filter(
                city=city, status=MembershipStatus.APPROVED
            ).select_related("user", "identity")
        }
        mairie = members["mairie@demo.smartb.fr"].user
        college = city.colleges.filter(slug=CURATORS_SLUG).first()
        if college is None:
            college = data.curators_college_open(by=mairie, city=city)
        curator_user = command._account("donnees@demo.smartb.fr", "Nadia", "Lefèvre")
        if not Membership.objects.filter(
            city=city, user=curator_user, status=MembershipStatus.APPROVED
        ).exists():
            gov.membership_approve(
                membership=gov.membership_request(user=curator_user, city=city, college=college),
                by=mairie,
            )
        velo = Provider.objects.get(siret=DEMO_SIRET)
        civiclab = Provider.objects.get(name="Civic Lab")

        # Ontologies: two accepted by the curator, one waiting.
        def ontology(name, namespace, file, fmt, by):
            return data.ontology_submit(
                by=by,
                city=city,
                name=name,
                namespace=namespace,
                version="1.0",
                format=fmt,
                source=(files / file).read_text(encoding="utf-8"),
            )

        mobility = ontology(
            "Mobilité douce", "https://vocab.smartb.fr/mobilite#", "mobilite.ttl", "turtle", mairie
        )
        air = ontology(
            "Qualité de l'air", "https://vocab.smartb.fr/air#", "qualite-air.ttl", "turtle", mairie
        )
        for accepted in (mobility, air):
            data.curation_record(by=curator_user, decision="accept", ontology=accepted)
            accepted.refresh_from_db()
        ontology(
            "Stationnement",
            "https://vocab.smartb.fr/stationnement.schema.json",
            "stationnement.schema.json",
            "json-schema",
            velo.owner,
        )

        # Open datasets, hosted encrypted.
        def hosted(file, title):
            content = (files / file).read_bytes()
            return data.HostedFile(
                content=[content], format="CSV", media_type="text/csv", title=title
            )

        licence = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
        bikes = data.dataset_create(
            by=mairie,
            city=city,
            publisher_kind="municipality",
            metadata=data.DatasetMetadata(
                title=bikes_title,
                description="Nombre de vélos comptés chaque jour par les cinq compteurs "
                "permanents des pistes cyclables de la ville.",
                licence=licence,
                contact_name="Direction de la mobilité",
                contact_email="mobilite@ville.example.fr",
                themes=["TRAN", "REGI"],
                keywords=["vélo", "comptage", "mobilité"],
                frequency="DAILY",
                temporal_start="2026-03-01",
                temporal_end="2026-03-14",
                spatial_uri="https://id.insee.fr/geo/commune/34172",
            ),
        )
        data.dataset_version_add(
            by=mairie,
            dataset=bikes,
            label="2026-03",
            notes="Premier versement : du 1er au 14 mars 2026.",
            files=[hosted("velo-compteurs-2026-03.csv", "Comptages journaliers, mars 2026")],
        )
        air_data = data.dataset_create(
            by=civiclab.owner,
            city=city,
            publisher_kind="provider",
            provider=civiclab,
            metadata=data.DatasetMetadata(
                title="Qualité de l'air : mesures horaires",
                description="PM10 et NO2 mesurés chaque heure par trois capteurs citoyens "
                "installés près des axes de circulation.",
                licence="https://creativecommons.org/licenses/by/4.0/",
                contact_name="Civic Lab",
                contact_email="donnees@civiclab.example.fr",
                themes=["ENVI", "HEAL"],
                keywords=["air", "PM10", "NO2", "pollution"],
                frequency="HOURLY",
                temporal_start="2026-03-02",
                temporal_end="2026-03-02",
            ),
        )
        data.dataset_version_add(
            by=civiclab.owner,
            dataset=air_data,
            label="2026-03-02",
            files=[hosted("qualite-air-2026-03-02.csv", "Mesures du 2 mars 2026")],
        )

        # A personal dataset: shared-bike trips of the demo residents, by DID.
        riders = ["resident@demo.smartb.fr", "lea@demo.smartb.fr", "hugo@demo.smartb.fr"]
        riders.append("ines@demo.smartb.fr")
        dids = [members[email].identity.did for email in riders]
        stations = ["Comédie", "Gare Saint-Roch", "Antigone", "Beaux-Arts", "Corum"]
        rows = ["subject,date,origin,destination,minutes"]
        for number, did in enumerate(dids):
            for day in range(1, 4 + number):
                origin, destination = stations[(number + day) % 5], stations[(number + 2 * day) % 5]
                rows.append(f"{did},2026-03-{day:02d},{origin},{destination},{8 + 3 * day}")
        trips = data.dataset_create(
            by=velo.owner,
            city=city,
            publisher_kind="provider",
            provider=velo,
            is_personal=True,
            subject_dids=dids,
            metadata=data.DatasetMetadata(
                title="Trajets en vélo partagé des usagers",
                description="Les trajets de vélos partagés (stations, durée) des usagers qui "
                "ont loué un vélo en mars 2026. Chaque ligne nomme l'usager par son DID.",
                licence=licence,
                contact_name="Vélo Services",
                contact_email="dpo@velo.example.fr",
                themes=["TRAN"],
                keywords=["vélo", "trajets", "données personnelles"],
                frequency="MONTHLY",
                temporal_start="2026-03-01",
                temporal_end="2026-03-31",
            ),
        )
        data.dataset_version_add(
            by=velo.owner,
            dataset=trips,
            label="2026-03",
            files=[
                data.HostedFile(
                    content=[("\n".join(rows) + "\n").encode()],
                    format="CSV",
                    media_type="text/csv",
                    title="Trajets de mars 2026",
                )
            ],
        )

        # Field links: two accepted (each curator's reward owed by the city), one pending.
        def term(source, name):
            return source.terms.get(iri=source.namespace + name)

        for dataset, by, field, linked in (
            (bikes, mairie, "counter_id", term(mobility, "CyclingCounter")),
            (air_data, civiclab.owner, "station", term(air, "MonitoringStation")),
        ):
            mapping = data.field_mapping_propose(
                by=by, dataset=dataset, field_name=field, term=linked
            )
            data.curation_record(by=curator_user, decision="accept", mapping=mapping)
        data.field_mapping_propose(
            by=mairie, dataset=bikes, field_name="bikes", term=term(mobility, "bikeCount")
        )

        # Offers: open data free, air quality per request, the trips per record (with purposes).
        contracts.offer_create(
            dataset=bikes,
            by=mairie,
            title="Données ouvertes",
            pricing_model="free",
            policy={
                "permission": [{"action": "read"}, {"action": "aggregate"}, {"action": "derive"}],
                "prohibition": [{"action": "sell"}],
            },
        )
        contracts.offer_create(
            dataset=air_data,
            by=civiclab.owner,
            title="Accès aux mesures",
            pricing_model="per_request",
            unit_price_cents=50,
            policy={
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "count", "operator": "lteq", "rightOperand": 1000}
                        ],
                    },
                    {"action": "aggregate"},
                ],
                "prohibition": [{"action": "distribute"}],
            },
        )
        trips_offer = contracts.offer_create(
            dataset=trips,
            by=velo.owner,
            title="Études de mobilité",
            pricing_model="per_record",
            unit_price_cents=2,
            policy={
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {
                                "leftOperand": "purpose",
                                "operator": "isAnyOf",
                                "rightOperand": ["mobility-planning", "research"],
                            },
                            {
                                "leftOperand": "elapsedTime",
                                "operator": "lteq",
                                "rightOperand": "P90D",
                            },
                        ],
                        "duty": [
                            {
                                "action": "delete",
                                "constraint": [
                                    {
                                        "leftOperand": "delayPeriod",
                                        "operator": "eq",
                                        "rightOperand": "P30D",
                                    }
                                ],
                            }
                        ],
                    },
                    {"action": "aggregate"},
                ],
                "prohibition": [{"action": "distribute"}, {"action": "smartb:trainModel"}],
            },
        )

        # Civic Lab's agreement on the trips: consents (two given, one refused, one still
        # asked), a delivery, a consent withdrawn (purge sent and acknowledged), another
        # delivery without those records, the invoice paid from a prepaid balance.
        consumer = civiclab.owner
        agreement = contracts.agreement_accept(
            quote=contracts.quote_create(offer=trips_offer, consumer=consumer),
            consumer=consumer,
            provider=civiclab,
            purposes=["mobility-planning"],
        )
        answers = {
            "resident@demo.smartb.fr": True,
            "lea@demo.smartb.fr": True,
            "hugo@demo.smartb.fr": False,
        }
        for email, give in answers.items():
            consents.consent_decide(
                consent=agreement.consents.get(subject=members[email].identity),
                user=members[email].user,
                give=give,
            )
        b"".join(access.delivery_open(agreement=agreement, user=consumer))
        lea = members["lea@demo.smartb.fr"]
        revoked = consents.consent_revoke(
            consent=agreement.consents.get(subject=lea.identity), user=lea.user
        )
        purge = revoked.purges.get()
        wallet.purge_attempt(purge=purge)
        wallet.purge_acknowledge(purge=purge, user=consumer)
        b"".join(access.delivery_open(agreement=agreement, user=consumer))
        invoice = billing.invoice_issue(agreement=agreement)
        billing.balance_top_up(city=city, consumer=consumer, amount_cents=5_000, by=mairie)
        billing.invoice_pay_prepaid(invoice=invoice, by=consumer)
    command.stdout.write(
        "Data marketplace: /c/montpellier/data/; data curator donnees@demo.smartb.fr "
        "(the curators college)"
    )


# --- impact (issue 6) -----------------------------------------------------------------------

IMPACT_INVESTOR = ("investisseur@demo.smartb.fr", "Iris", "Lambert", "Rue de l'Université 9")
# (e-mail, km cycled) per month back from the last one: what the bike-sharing service claims.
IMPACT_TRIPS = {
    "resident@demo.smartb.fr": [420, 380, 510, 300, 460],
    "lea@demo.smartb.fr": [250, 310, 0, 280, 190],
    "hugo@demo.smartb.fr": [600, 0, 540, 0, 0],
}


def _seed_impact(city: City, *, account) -> None:
    """Impact in the demo city: the catalogue; a curator; claims in every state (a service's
    batch for three residents over five months, members' own claims: approved with their
    credentials and tokens, rejected, disputed, submitted, a draft); the municipality's own
    impact; a transfer, a retirement, a sell offer partly bought, an investor's forward
    order filled by new tokens, a merchant's offer spent, a redemption, a project and a
    call for participation. Added once (skipped when the city has claims)."""
    from datetime import date

    from impact import services as impact
    from impact.models import Claim, Methodology, TokenClass
    from marketplace.models import Deployment

    impact.impact_load_catalogue()
    if Claim.objects.filter(city=city).exists():
        return
    mairie = User.objects.get(email="mairie@demo.smartb.fr")
    email, first, last, address = IMPACT_INVESTOR
    investor = account(email, first, last)
    if not Membership.objects.filter(city=city, user=investor).exists():
        gov.membership_approve(
            membership=gov.membership_request(
                user=investor,
                city=city,
                college=city.colleges.get(slug="residents"),
                postal_address=address,
                postal_code="34000",
            ),
            by=mairie,
        )
    members = {
        m.user.email: m
        for m in Membership.objects.filter(
            city=city, status=MembershipStatus.APPROVED
        ).select_related("user", "identity", "college")
    }
    curator = members["curator@demo.smartb.fr"]
    impact.curator_grant(city=city, membership=curator, by=mairie)
    cycling = Methodology.objects.get(code="cycling-instead-of-car", version=1)
    waste = Methodology.objects.get(code="waste-sorted", version=1)
    energy = Methodology.objects.get(code="energy-saved", version=1)
    tco2e = TokenClass.objects.get(code="tco2e-avoided")
    kwh = TokenClass.objects.get(code="kwh-saved")

    def month(back: int) -> tuple[date, date]:
        today = timezone.localdate()
        year, number = today.year, today.month - back
        while number < 1:
            year, number = year - 1, number + 12
        start = date(year, number, 1)
        end = date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)
        return start, end

    def decide(claim, decision: str, reason: str = ""):
        claim = Claim.objects.get(pk=claim.pk)
        return impact.claim_verify(
            claim=claim,
            by=curator.user,
            decision=decision,
            recomputed_quantity=claim.quantity,
            reason_code=reason,
        )

    def own_claim(member, methodology, values: dict, back: int, district: str, proof=None):
        start, end = month(back)
        claim = impact.claim_create(
            claimant=member,
            by=member.user,
            methodology=methodology,
            parameters=values,
            period_start=start,
            period_end=end,
            district_code=district,
        )
        if proof is not None:
            evidence_type, filename, content = proof
            impact.evidence_add_file(
                claim=claim,
                by=member.user,
                evidence_type=evidence_type,
                filename=filename,
                content=content,
                media_type="text/csv",
            )
        return claim

    # Investors pre-buy; Hugo agrees that his new tokens fill their orders.
    impact.forward_order_create(
        city=city, by=investor, token_class=tco2e, quantity=100, unit_price_cents=3
    )
    hugo = impact.portfolio_for(city=city, user=members["hugo@demo.smartb.fr"].user)
    impact.portfolio_forward_consent(portfolio=hugo, by=hugo.user, accepts=True)

    # The bike-sharing service claims its users' kilometres, signed by its provider's DID.
    deployment = (
        Deployment.objects.filter(
            city=city, active=True, service__name=APP_STORE_SERVICES[0]["name"]
        )
        .select_related("service__provider")
        .first()
    )
    districts = ["ecusson", "boutonnet", "antigone", "port-marianne", "figuerolles"]
    items = []
    for who, kilometres in IMPACT_TRIPS.items():
        for back, km in enumerate(kilometres, start=1):
            if not km:
                continue
            start, end = month(back)
            dataset = f"velos-trajets-{start:%Y-%m}"
            items.append(
                {
                    "claimant": members[who].public_id,
                    "methodology": cycling.public_id,
                    "parameters": {"distance_km": str(km)},
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "district": districts[(back + len(who)) % len(districts)],
                    "evidence": [
                        {
                            "type": "trip-dataset",
                            "dataset": dataset,
                            "sha256": hashlib.sha256(f"{dataset}:{who}".encode()).hexdigest(),
                        }
                    ],
                }
            )
    batch = impact.claim_batch_submit(
        city=city,
        service_ref=deployment.public_id,
        by=deployment.service.provider.owner,
        reference="demo-trajets-1",
        items=items,
    )
    claims = list(Claim.objects.filter(batch=batch).order_by("pk"))
    # Most are approved (credentials signed, tokens issued); one disputed, two left waiting.
    for position, claim in enumerate(claims):
        if position == 1:
            decide(claim, "dispute")
        elif position not in (len(claims) - 1, len(claims) - 2):
            decide(claim, "approve")

    # Members' own claims: waste sorted (approved), a rejected one, a draft.
    resident = members["resident@demo.smartb.fr"]
    ticket = ("weighing-ticket", "pesee-dechetterie.csv", b"date,kg\n2026-01-12,85\n")
    decide(
        impact.claim_submit(
            claim=own_claim(resident, waste, {"mass_kg": "85"}, 2, "ecusson", ticket),
            by=resident.user,
        ),
        "approve",
    )
    lea = members["lea@demo.smartb.fr"]
    claim = own_claim(lea, waste, {"mass_kg": "40"}, 3, "boutonnet")
    decide(impact.claim_submit(claim=claim, by=lea.user), "reject", "insufficient_evidence")
    own_claim(resident, energy, {"baseline_kwh": "3200", "metered_kwh": "2750"}, 1, "ecusson")

    # The municipality's own impact (public lighting): kWh saved, in the city's portfolio.
    staff = members["mairie@demo.smartb.fr"]
    meters = ("meter-export", "eclairage-public.csv", b"mois,kwh\nreference,18400\nmesure,15100\n")
    decide(
        impact.claim_submit(
            claim=own_claim(
                staff, energy, {"baseline_kwh": "18400", "metered_kwh": "15100"}, 2, "", meters
            ),
            by=mairie,
        ),
        "approve",
    )

    # Tokens at work: a gift, a retirement, a sale, a merchant, a redemption, a project.
    portfolios = {
        who: impact.portfolio_for(city=city, user=members[who].user)
        for who in ("resident@demo.smartb.fr", "lea@demo.smartb.fr", "provider@demo.smartb.fr")
    }
    mine = portfolios["resident@demo.smartb.fr"]
    impact.token_transfer(
        sender=mine,
        recipient=portfolios["lea@demo.smartb.fr"],
        by=resident.user,
        token_class=tco2e,
        quantity=20,
    )
    impact.token_retire(
        portfolio=mine,
        by=resident.user,
        token_class=tco2e,
        quantity=30,
        reason_code="offset",
        beneficiary_name="Camille Martin",
    )
    offer = impact.offer_create(
        seller=portfolios["lea@demo.smartb.fr"],
        by=lea.user,
        token_class=tco2e,
        quantity=40,
        unit_price_cents=3,
    )
    impact.offer_buy(
        offer=offer,
        buyer=impact.portfolio_for(city=city, user=investor),
        by=investor,
        quantity=25,
    )
    provider = members["provider@demo.smartb.fr"]
    repair = impact.merchant_offer_create(
        city=city,
        by=provider.user,
        title="Révision de vélo offerte",
        description="Une révision complète dans notre atelier de la gare Saint-Roch.",
        token_class=tco2e,
        price_quantity=50,
        settlement="transfer",
        stock=20,
    )
    impact.merchant_offer_redeem(offer=repair, buyer=mine, by=resident.user, items=1)
    impact.redemption_rate_set(city=city, by=mairie, token_class=tco2e, cents_per_unit=3000)
    impact.token_redeem(
        portfolio=portfolios["provider@demo.smartb.fr"],
        by=provider.user,
        token_class=tco2e,
        quantity=40,
    )
    ines = members["ines@demo.smartb.fr"]
    garden = impact.project_create(
        city=city,
        by=ines.user,
        title="Composteurs du quartier Boutonnet",
        description="Six composteurs partagés et un atelier par mois.",
        token_class=tco2e,
        goal_quantity=200,
        goal_cents=60_000,
    )
    impact.project_contribute(
        project=garden, contributor=mine, by=resident.user, quantity=10, amount_cents=2_000
    )
    call = impact.participation_call_create(
        city=city,
        by=mairie,
        title="Nettoyage des berges du Lez",
        description="Samedi matin, gants et sacs fournis.",
        token_class=kwh,
        reward_quantity=100,
        places=12,
    )
    impact.participation_reward(
        participation=impact.participation_register(call=call, by=lea.user), by=mairie
    )
    impact.participation_register(call=call, by=members["hugo@demo.smartb.fr"].user)
