"""The app store's share of a city export (`smartb.portability`): what the city needs to keep
running the services it voted for.

- `providers`, `services`, `versions` and `audits`: every service version the city deployed,
  ran or names in a deploy_service proposal, with its service, its provider's public data
  (name, SIRET, website, owner's DID) and its GDPR Article 30 declaration, and the operator's
  technical and legal verdicts on it;
- `deployments`, `fees` and `executions`: the city's own rows.

The provider, service, version and audit rows were signed on the origin's network chain.
They keep that transaction as its `tx_hash`, and the transaction leaves with the export as
evidence (`ctx.include_network_entry`: signature and inclusion proof, checked by the ledger
section), never as a foreign key: the new instance's network chain is another log. The
import checks that each row says what its transaction signed (digests of names, listing,
declaration, findings), then anchors each row on the new instance's network chain with a
`marketplace.<row>.import` transaction signed by this platform's validator, naming the
origin transaction: the rows' `entry`. Deployments, fees and executions are checked against
the city's own chain (the last `marketplace.deployment.*` of each deployment, the treasury
postings of each fee, the signed record of each execution).

Accounts named here (provider owners, who registered them, auditors, who recorded an
execution) leave through the identity section: username and e-mail, public DIDs, no
password and no staff rights. Incentive tasks (audit bounties) stay with the network: an
imported audit has no task.

Registered from `MarketplaceConfig.ready`::

    register_section(
        "marketplace",
        exporter=export_marketplace,
        importer=import_marketplace,
        checker=check_marketplace,
        after=("ledger", "identity", "governance"),
    )
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from governance.models import City, Movement, Proposal, ProposalKind
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import actor_register, ledger_append_many
from ledger.signing import platform_validator
from smartb.portability import ExportContext, ExportRefused, ImportContext, ImportRefused
from smartb.portability.registry import Tables
from smartb.portability.rows import insert_rows, moment, require_fields, stamp

from .models import (
    Audit,
    AuditKind,
    Category,
    ContractExecution,
    Deployment,
    Fee,
    FeeKind,
    LegalBasis,
    Provider,
    Service,
    ServiceVersion,
    Verdict,
    VersionStatus,
)
from .services._common import sha256_json, sha256_text
from .services.catalogue import declaration_of, service_content
from .services.fees import KIND_EXECUTION, SHARE_ACCOUNTS

SECTION = "marketplace"
KIND_DEPLOYMENT_PREFIX = "marketplace.deployment."
SIGNED_AS = {
    # table -> (what the row is called in its transactions, the kind that signed it)
    "providers": ("provider", "marketplace.provider.register"),
    "services": ("service", "marketplace.service.create"),
    "versions": ("version", "marketplace.version.create"),
    "audits": ("audit", "marketplace.audit.record"),
}
REQUIRED = {
    "providers": ("public_id", "name", "siret", "owner", "identity", "registered_by", "entry"),
    "services": ("public_id", "provider", "name", "description", "category", "entry"),
    "versions": (
        "public_id",
        "service",
        "number",
        "label",
        "purposes",
        "legal_basis",
        "retention",
        "deployment_fee_cents",
        "execution_fee_cents",
        "declaration_digest",
        "status",
        "entry",
    ),
    "audits": ("public_id", "version", "kind", "auditor", "auditor_identity", "verdict", "entry"),
    "deployments": ("public_id", "service", "version", "active", "proposal", "deployed_at"),
    "fees": ("deployment", "kind", "amount_cents", "movement"),
    "executions": ("public_id", "deployment", "version", "reference", "entry"),
}
SHARES = ("operator", "data_owners", "local_projects")


# --- export -----------------------------------------------------------------------------


def export_marketplace(ctx: ExportContext) -> Tables:
    city = ctx.city
    deployments = list(
        Deployment.objects.filter(city=city)
        .select_related("service", "version", "proposal")
        .order_by("pk")
    )
    executions = list(
        ContractExecution.objects.filter(deployment__city=city)
        .select_related("deployment", "version", "recorded_by", "fee__movement", "entry")
        .order_by("pk")
    )
    fees = list(
        Fee.objects.filter(city=city)
        .select_related("deployment", "movement", "proposal")
        .order_by("pk")
    )
    versions = list(
        ServiceVersion.objects.filter(
            Q(pk__in={d.version_id for d in deployments} | {e.version_id for e in executions})
            | Q(public_id__in=_versions_proposed(city))
        )
        .select_related("service__provider", "entry__chain")
        .order_by("pk")
    )
    services = (
        Service.objects.filter(pk__in={v.service_id for v in versions})
        .select_related("provider", "entry__chain")
        .order_by("pk")
    )
    providers = (
        Provider.objects.filter(pk__in={v.service.provider_id for v in versions})
        .select_related("owner", "identity", "registered_by", "membership", "entry__chain")
        .order_by("pk")
    )
    audits = (
        Audit.objects.filter(version__in=versions)
        .select_related("version", "auditor", "auditor_identity", "entry__chain")
        .order_by("pk")
    )
    tables = {
        "providers": [_provider_row(ctx, p) for p in providers],
        "services": [_service_row(ctx, s) for s in services],
        "versions": [_version_row(ctx, v) for v in versions],
        "audits": [_audit_row(ctx, a) for a in audits],
        "deployments": [
            {
                "public_id": d.public_id,
                "service": d.service.public_id,
                "version": d.version.public_id,
                "active": d.active,
                "proposal": d.proposal.public_id,
                "deployed_at": stamp(d.deployed_at),
                "undeployed_at": stamp(d.undeployed_at),
            }
            for d in deployments
        ],
        "fees": [
            {
                "deployment": f.deployment.public_id,
                "kind": f.kind,
                "amount_cents": f.amount_cents,
                "operator_cents": f.operator_cents,
                "data_owners_cents": f.data_owners_cents,
                "local_projects_cents": f.local_projects_cents,
                "movement": f.movement.public_id,
                "proposal": f.proposal.public_id if f.proposal else None,
                "created_at": stamp(f.created_at),
            }
            for f in fees
        ],
        "executions": [],
    }
    for execution in executions:
        ctx.include_account(execution.recorded_by_id)
        tables["executions"].append(
            {
                "public_id": execution.public_id,
                "deployment": execution.deployment.public_id,
                "version": execution.version.public_id,
                "reference": execution.reference,
                "recorded_by": execution.recorded_by.public_id if execution.recorded_by else None,
                "fee": execution.fee.movement.public_id if execution.fee else None,
                "entry": ctx.entry_index(
                    chain_id=execution.entry.chain_id, index=execution.entry.index
                ),
                "created_at": stamp(execution.created_at),
            }
        )
    return tables


def _versions_proposed(city: City) -> set[str]:
    """The versions the city's deploy_service proposals name (an open vote on one executes
    after the import)."""
    named = set()
    for parameters in Proposal.objects.filter(
        city=city, kind=ProposalKind.DEPLOY_SERVICE
    ).values_list("parameters", flat=True):
        parameters = parameters if isinstance(parameters, dict) else {}
        public_id = parameters.get("service_version", parameters.get("service"))
        if isinstance(public_id, str) and public_id:
            named.add(public_id)
    return named


def _network_entry(ctx: ExportContext, row) -> str:
    """The row's transaction on the network chain: it leaves as evidence, the row keeps its
    hash."""
    if row.entry.chain.slug != NETWORK_CHAIN_SLUG:
        raise ExportRefused(
            _("An app store row refers to a transaction of another chain than the network's.")
        )
    ctx.include_network_entry(row.entry_id)
    return row.entry.tx_hash


def _provider_row(ctx: ExportContext, provider: Provider) -> dict:
    ctx.include_account(provider.owner_id)
    ctx.include_account(provider.identity.user_id)
    ctx.include_account(provider.registered_by_id)
    membership = provider.membership
    return {
        "public_id": provider.public_id,
        "name": provider.name,
        "siret": provider.siret,
        "website": provider.website,
        "owner": provider.owner.public_id,
        "identity": provider.identity.did,
        "registered_by": provider.registered_by.public_id,
        # The membership it registered through, when it is one of this city's.
        "membership": (
            membership.public_id
            if membership is not None and membership.city_id == ctx.city.pk
            else None
        ),
        "entry": _network_entry(ctx, provider),
        "created_at": stamp(provider.created_at),
    }


def _service_row(ctx: ExportContext, service: Service) -> dict:
    return {
        "public_id": service.public_id,
        "provider": service.provider.public_id,
        "name": service.name,
        "description": service.description,
        "logo_url": service.logo_url,
        "category": service.category,
        "website": service.website,
        "entry": _network_entry(ctx, service),
        "created_at": stamp(service.created_at),
    }


def _version_row(ctx: ExportContext, version: ServiceVersion) -> dict:
    return {
        "public_id": version.public_id,
        "service": version.service.public_id,
        "number": version.number,
        "label": version.label,
        "changelog": version.changelog,
        "personal_data": version.personal_data,
        "data_subjects": version.data_subjects,
        "purposes": version.purposes,
        "legal_basis": version.legal_basis,
        "retention": version.retention,
        "recipients": version.recipients,
        "transfers_outside_eu": version.transfers_outside_eu,
        "impact_indicators": version.impact_indicators,
        "deployment_fee_cents": version.deployment_fee_cents,
        "execution_fee_cents": version.execution_fee_cents,
        "declaration_digest": version.declaration_digest,
        "status": version.status,
        "status_reason": version.status_reason,
        "audited_at": stamp(version.audited_at),
        "entry": _network_entry(ctx, version),
        "created_at": stamp(version.created_at),
    }


def _audit_row(ctx: ExportContext, audit: Audit) -> dict:
    ctx.include_account(audit.auditor_id)
    ctx.include_account(audit.auditor_identity.user_id)
    return {
        "public_id": audit.public_id,
        "version": audit.version.public_id,
        "kind": audit.kind,
        "auditor": audit.auditor.public_id,
        "auditor_identity": audit.auditor_identity.did,
        "findings": audit.findings,
        "verdict": audit.verdict,
        "reason": audit.reason,
        "entry": _network_entry(ctx, audit),
        "created_at": stamp(audit.created_at),
    }


# --- checks -----------------------------------------------------------------------------


def check_marketplace(ctx: ImportContext, tables: Tables) -> None:
    """Rows are well formed and new here, each network row says what its transaction signed
    at the origin, and the city's rows agree with the city's chain and treasury."""
    for table, fields in REQUIRED.items():
        require_fields(tables.get(table, []), fields, table)
    for table, name, allowed in (
        ("services", "category", Category.values),
        ("versions", "legal_basis", LegalBasis.values),
        ("versions", "status", VersionStatus.values),
        ("audits", "kind", AuditKind.values),
        ("audits", "verdict", Verdict.values),
        ("fees", "kind", FeeKind.values),
    ):
        if any(row[name] not in allowed for row in tables.get(table, [])):
            raise ImportRefused(
                _("A row of %(table)s has an unknown %(field)s.") % {"table": table, "field": name}
            )
    for model, table in (
        (Provider, "providers"),
        (Service, "services"),
        (ServiceVersion, "versions"),
        (Audit, "audits"),
        (Deployment, "deployments"),
        (ContractExecution, "executions"),
    ):
        ids = [row["public_id"] for row in tables.get(table, [])]
        if model.objects.filter(public_id__in=ids).exists():
            raise ImportRefused(_("A row of %(table)s exists here already.") % {"table": table})
    sirets = [row["siret"] for row in tables.get("providers", [])]
    if Provider.objects.filter(siret__in=sirets).exists():
        raise ImportRefused(_("A provider of the export is registered here already."))
    _check_signed_rows(ctx, tables)
    _check_city_rows(ctx, tables)


def _check_signed_rows(ctx: ImportContext, tables: Tables) -> None:
    evidence = {
        entry.get("tx_hash"): entry
        for entry in ctx.tables.get("ledger", {}).get("network", [])
        if isinstance(entry, dict)
    }

    def signed(table: str, row: dict) -> dict:
        what, kind = SIGNED_AS[table]
        tx = evidence.get(row["entry"])
        payload = tx.get("payload") if tx is not None else None
        if tx is None or tx.get("kind") != kind or not isinstance(payload, dict):
            raise _unsigned(table, row)
        if payload.get(what) != row["public_id"]:
            raise _unsigned(table, row)
        return tx

    for row in tables.get("providers", []):
        payload = signed("providers", row)["payload"]
        if (
            payload.get("owner") != row["identity"]
            or payload.get("name") != sha256_text(row["name"])
            or payload.get("siret") != sha256_text(row["siret"])
        ):
            raise _unsigned("providers", row)
    for row in tables.get("services", []):
        payload = signed("services", row)["payload"]
        if (
            payload.get("provider") != row["provider"]
            or payload.get("category") != row["category"]
            or payload.get("content") != sha256_json(service_content(_service(row)))
        ):
            raise _unsigned("services", row)
    versions = {}
    for row in tables.get("versions", []):
        payload = signed("versions", row)["payload"]
        declaration = sha256_json(declaration_of(_version(row)))
        if (
            payload.get("service") != row["service"]
            or payload.get("number") != row["number"]
            or payload.get("declaration") != declaration
            or row["declaration_digest"] != declaration
            or payload.get("deployment_fee_cents") != row["deployment_fee_cents"]
            or payload.get("execution_fee_cents") != row["execution_fee_cents"]
        ):
            raise _unsigned("versions", row)
        versions[row["public_id"]] = row
    passed: dict[str, set[str]] = {}
    for row in tables.get("audits", []):
        tx = signed("audits", row)
        payload = tx["payload"]
        reason = row.get("reason") or ""
        version = versions.get(row["version"])
        if (
            version is None
            or tx.get("actor") != row["auditor_identity"]
            or payload.get("version") != row["version"]
            or payload.get("declaration") != version["declaration_digest"]
            or payload.get("kind") != row["kind"]
            or payload.get("verdict") != row["verdict"]
            or payload.get("findings") != sha256_text(str(row.get("findings") or ""))
            or payload.get("reason") != (sha256_text(reason) if reason else None)
        ):
            raise _unsigned("audits", row)
        if row["verdict"] == Verdict.PASS:
            passed.setdefault(row["version"], set()).add(row["kind"])
    for public_id, row in versions.items():
        if row["status"] == VersionStatus.AUDITED and passed.get(public_id) != set(
            AuditKind.values
        ):
            raise ImportRefused(
                _("The version %(id)s is said audited without both audits passed.")
                % {"id": public_id}
            )


def _check_city_rows(ctx: ImportContext, tables: Tables) -> None:
    versions = {row["public_id"]: row for row in tables.get("versions", [])}
    deployments = {}
    last_decision: dict[str, dict] = {}
    for tx in ctx.bundle.get("transactions", []):
        payload = tx.get("payload")
        if str(tx.get("kind", "")).startswith(KIND_DEPLOYMENT_PREFIX) and isinstance(payload, dict):
            last_decision[payload.get("deployment")] = payload
    for row in tables.get("deployments", []):
        version = versions.get(row["version"])
        decision = last_decision.get(row["public_id"])
        if (
            version is None
            or version["service"] != row["service"]
            or decision is None
            or decision.get("service") != row["service"]
            or decision.get("service_version") != row["version"]
            or decision.get("proposal") != row["proposal"]
            or decision.get("active") != row["active"]
        ):
            raise ImportRefused(
                _("The deployment %(id)s disagrees with the city's ledger.")
                % {"id": row["public_id"]}
            )
        deployments[row["public_id"]] = row
    governance = ctx.tables.get("governance", {})
    movements = {row.get("public_id") for row in governance.get("movements", [])}
    postings: dict[str, dict[str, int]] = {}
    for posting in governance.get("postings", []):
        lines = postings.setdefault(posting.get("movement"), {})
        lines[posting.get("account")] = (
            lines.get(posting.get("account"), 0) + posting["amount_cents"]
        )
    fees = {}
    for row in tables.get("fees", []):
        lines = postings.get(row["movement"], {})
        shares = {share: row.get(f"{share}_cents") for share in SHARES}
        if (
            row["deployment"] not in deployments
            or row["movement"] not in movements
            or row["movement"] in fees
            or type(row["amount_cents"]) is not int
            or row["amount_cents"] <= 0
            or any(type(cents) is not int or cents < 0 for cents in shares.values())
            or sum(shares.values()) != row["amount_cents"]
            or lines.get("bank") != row["amount_cents"]
            or any(lines.get(SHARE_ACCOUNTS[share], 0) != -cents for share, cents in shares.items())
        ):
            raise ImportRefused(
                _("A fee of the export disagrees with the treasury movement %(id)s.")
                % {"id": row["movement"]}
            )
        fees[row["movement"]] = row
    for row in tables.get("executions", []):
        tx = ctx.transaction(row["entry"])
        payload = tx["payload"] if isinstance(tx["payload"], dict) else {}
        fee = fees.get(row["fee"]) if row.get("fee") else None
        if (
            tx["kind"] != KIND_EXECUTION
            or row["deployment"] not in deployments
            or row["version"] not in versions
            or (row.get("fee") and fee is None)
            or payload.get("deployment") != row["deployment"]
            or payload.get("service_version") != row["version"]
            or payload.get("reference") != row["reference"]
            or payload.get("fee_cents") != (fee["amount_cents"] if fee else 0)
        ):
            raise ImportRefused(
                _("An execution of the export disagrees with ledger transaction %(index)s.")
                % {"index": row["entry"]}
            )


def _unsigned(table: str, row: dict) -> ImportRefused:
    return ImportRefused(
        _(
            "The %(table)s row %(id)s disagrees with the network transaction that signed it "
            "at the origin."
        )
        % {"table": table, "id": row.get("public_id")}
    )


def _service(row: dict, **fields) -> Service:
    """The row's service (unsaved), e.g. for `service_content`."""
    return Service(
        public_id=row["public_id"],
        name=row["name"],
        description=row["description"],
        category=row["category"],
        website=row.get("website") or "",
        logo_url=row.get("logo_url") or "",
        **fields,
    )


def _version(row: dict) -> ServiceVersion:
    """An unsaved version with the row's declaration (for `declaration_of`)."""
    return ServiceVersion(
        public_id=row["public_id"],
        service=Service(public_id=row["service"]),
        number=row["number"],
        label=row["label"],
        changelog=row.get("changelog") or "",
        personal_data=row.get("personal_data") or [],
        data_subjects=row.get("data_subjects") or [],
        purposes=row["purposes"],
        legal_basis=row["legal_basis"],
        retention=row["retention"],
        recipients=row.get("recipients") or [],
        transfers_outside_eu=row.get("transfers_outside_eu") or "",
        impact_indicators=row.get("impact_indicators") or [],
        deployment_fee_cents=row["deployment_fee_cents"],
        execution_fee_cents=row["execution_fee_cents"],
    )


# --- import -----------------------------------------------------------------------------


def import_marketplace(ctx: ImportContext, tables: Tables) -> None:
    anchors = _anchor(ctx, tables)
    providers = {
        p.public_id: p
        for p in insert_rows(
            Provider,
            [
                Provider(
                    public_id=r["public_id"],
                    name=r["name"],
                    siret=r["siret"],
                    website=r.get("website") or "",
                    owner=ctx.ref("identity.user", r["owner"]),
                    identity=ctx.ref("identity.identity", r["identity"]),
                    registered_by=ctx.ref("identity.user", r["registered_by"]),
                    membership=ctx.ref("governance.membership", r.get("membership")),
                    entry=anchors[("providers", r["public_id"])],
                    created_at=moment(r.get("created_at")),
                )
                for r in tables.get("providers", [])
            ],
        )
    }
    services = {
        s.public_id: s
        for s in insert_rows(
            Service,
            [
                _service(
                    r,
                    provider=_get(providers, r["provider"], "provider"),
                    entry=anchors[("services", r["public_id"])],
                    created_at=moment(r.get("created_at")),
                )
                for r in tables.get("services", [])
            ],
        )
    }
    versions = {}
    rows = []
    for r in tables.get("versions", []):
        version = _version(r)
        version.service = _get(services, r["service"], "service")
        version.declaration_digest = r["declaration_digest"]
        version.status = r["status"]
        version.status_reason = r.get("status_reason") or ""
        version.audited_at = moment(r.get("audited_at"))
        version.entry = anchors[("versions", r["public_id"])]
        version.created_at = moment(r.get("created_at"))
        rows.append(version)
    for version in insert_rows(ServiceVersion, rows):
        versions[version.public_id] = version
    insert_rows(
        Audit,
        [
            Audit(
                public_id=r["public_id"],
                version=_get(versions, r["version"], "version"),
                kind=r["kind"],
                auditor=ctx.ref("identity.user", r["auditor"]),
                auditor_identity=ctx.ref("identity.identity", r["auditor_identity"]),
                findings=r.get("findings") or "",
                verdict=r["verdict"],
                reason=r.get("reason") or "",
                task=None,  # the audit bounty stays with the network
                entry=anchors[("audits", r["public_id"])],
                created_at=moment(r.get("created_at")),
            )
            for r in tables.get("audits", [])
        ],
    )
    deployments = {
        d.public_id: d
        for d in insert_rows(
            Deployment,
            [
                Deployment(
                    public_id=r["public_id"],
                    city=ctx.city,
                    service=_get(services, r["service"], "service"),
                    version=_get(versions, r["version"], "version"),
                    active=bool(r["active"]),
                    proposal=ctx.ref("governance.proposal", r["proposal"]),
                    deployed_at=moment(r["deployed_at"]),
                    undeployed_at=moment(r.get("undeployed_at")),
                )
                for r in tables.get("deployments", [])
            ],
        )
    }
    movements = {
        m.public_id: m
        for m in Movement.objects.filter(
            city=ctx.city, public_id__in=[r["movement"] for r in tables.get("fees", [])]
        )
    }
    fees = {
        f.movement.public_id: f
        for f in insert_rows(
            Fee,
            [
                Fee(
                    city=ctx.city,
                    deployment=_get(deployments, r["deployment"], "deployment"),
                    kind=r["kind"],
                    amount_cents=r["amount_cents"],
                    operator_cents=r["operator_cents"],
                    data_owners_cents=r["data_owners_cents"],
                    local_projects_cents=r["local_projects_cents"],
                    movement=_get(movements, r["movement"], "treasury movement"),
                    proposal=ctx.ref("governance.proposal", r.get("proposal")),
                    created_at=moment(r.get("created_at")),
                )
                for r in tables.get("fees", [])
            ],
        )
    }
    insert_rows(
        ContractExecution,
        [
            ContractExecution(
                public_id=r["public_id"],
                deployment=_get(deployments, r["deployment"], "deployment"),
                version=_get(versions, r["version"], "version"),
                reference=r["reference"],
                recorded_by=ctx.ref("identity.user", r.get("recorded_by")),
                fee=_get(fees, r.get("fee"), "fee"),
                entry_id=ctx.entry_pk(r["entry"]),
                created_at=moment(r.get("created_at")),
            )
            for r in tables.get("executions", [])
        ],
    )
    for kind, found in (
        ("marketplace.provider", providers),
        ("marketplace.service", services),
        ("marketplace.version", versions),
        ("marketplace.deployment", deployments),
    ):
        for public_id, row in found.items():
            ctx.remember(kind, public_id, row)


def _anchor(ctx: ImportContext, tables: Tables) -> dict:
    """One transaction per network row on this instance's network chain, signed by its
    validator, naming the row and the origin transaction that signed it."""
    wanted = [
        (table, row["public_id"], row["entry"])
        for table in ("providers", "services", "versions", "audits")
        for row in tables.get(table, [])
    ]
    if not wanted:
        return {}
    validator = platform_validator()
    actor_register(did=validator.did)
    slug = ctx.manifest["city"]
    entries = ledger_append_many(
        chain=NETWORK_CHAIN_SLUG,
        entries=[
            (
                validator,
                f"marketplace.{SIGNED_AS[table][0]}.import",
                {SIGNED_AS[table][0]: public_id, "city": slug, "origin_tx": tx_hash},
            )
            for table, public_id, tx_hash in wanted
        ],
    )
    return {
        (table, public_id): entry
        for (table, public_id, _hash), entry in zip(wanted, entries, strict=True)
    }


def _get(rows: dict, key, what: str):
    if key is None:
        return None
    if key not in rows:
        raise ImportRefused(
            _("The export refers to a %(what)s it does not contain (%(key)s).")
            % {"what": what, "key": key}
        )
    return rows[key]
