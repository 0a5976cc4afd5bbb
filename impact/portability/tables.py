"""Every table of the impact section, declared once: which rows leave, the columns they
carry (in this order: exports written before must still import, and `impact.json` must stay
the same byte for byte), the columns an import may go without, the ledger kind that signs
each row, and how a row is written back.

The order of `TABLES` is the order of the export; `LOAD_ORDER` writes a table after the
tables its rows name.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from smartb.portability import ImportRefused

from ..models import (
    Batch,
    Claim,
    ClaimBatch,
    Contribution,
    Curator,
    Evidence,
    EvidenceKind,
    ForwardFill,
    ForwardOrder,
    Holding,
    MerchantOffer,
    MerchantRedemption,
    Participation,
    ParticipationCall,
    Payable,
    Portfolio,
    Project,
    Purchase,
    Redemption,
    RedemptionRate,
    Retirement,
    SellOffer,
    SerialCounter,
    Transfer,
    Verification,
)
from .common import evidence_content, parse_date
from .spec import (
    Load,
    Loading,
    Table,
    account,
    at,
    base64_or_none,
    day,
    entry,
    link,
)

ENTRY = ("entry", entry())
CREATED = ("created_at", at("created_at"))
MEMBERSHIP = "governance.membership"
CREDENTIAL = "identity.credential"


def _paid_entry(row: dict, load: Loading):
    return load.ctx.entry_pk(row.get("paid_entry"))


def _methodology(row: dict, load: Loading):
    # Named by code and version: the check found each one here, or in the catalogue the
    # import loads first, with the definition the claim was computed with.
    return load.found["methodologies"][(row["methodology"], row["methodology_version"])]


def _holding_class(row: dict, load: Loading):
    return load.get("batches", row["batch"]).token_class


CURATORS = Table(
    name="curators",
    model=Curator,
    scope="city",
    related=("membership", "granted_by", "entry"),
    columns=(
        "public_id",
        link("membership", kind=MEMBERSHIP),
        account("granted_by"),
        ("granted_at", at("granted_at")),
        ("revoked_at", at("revoked_at")),
        ENTRY,
    ),
    optional=("revoked_at",),
    signed_by="impact.curator.grant",
    load=Load(
        stamps=("granted_at", "revoked_at"),
    ),
)

CLAIM_BATCHES = Table(
    name="claim_batches",
    model=ClaimBatch,
    scope="city",
    related=("submitted_by", "entry"),
    columns=(
        "public_id",
        "service_ref",
        "provider_did",
        account("submitted_by"),
        "reference",
        "digest",
        "count",
        ENTRY,
        CREATED,
    ),
    signed_by="impact.claim.batch",
    load=Load(),
)

CLAIMS = Table(
    name="claims",
    model=Claim,
    scope="city",
    related=("claimant", "indicator", "methodology", "token_class", "batch", "created_by", "entry"),
    columns=(
        "public_id",
        link("claimant", kind=MEMBERSHIP),
        ("indicator", "indicator.code"),
        ("methodology", "methodology.code"),
        ("methodology_version", "methodology.version"),
        ("methodology_digest", "methodology.digest"),
        # The origin's public id: the claim's transaction (and a service's items) signed it.
        ("methodology_ref", "methodology.public_id"),
        link("token_class", "token_classes", via="code"),
        "parameters",
        "parameters_digest",
        "quantity",
        "unit",
        ("period_start", day("period_start")),
        ("period_end", day("period_end")),
        "district_code",
        "service_ref",
        link("batch", "claim_batches", if_set=True),
        "state",
        "reason_code",
        "bounty_cents",
        "bounty_task_ref",
        account("created_by"),
        ENTRY,
        CREATED,
        ("submitted_at", at("submitted_at")),
        ("decided_at", at("decided_at")),
    ),
    optional=(
        "district_code",
        "service_ref",
        "batch",
        "reason_code",
        "bounty_cents",
        "bounty_task_ref",
        "created_at",
        "submitted_at",
        "decided_at",
    ),
    signed_by="impact.claim.create",
    classed=True,
    load=Load(
        text=("district_code", "service_ref", "reason_code", "bounty_task_ref"),
        zero=("bounty_cents",),
        stamps=("created_at", "submitted_at", "decided_at"),
        built={
            "methodology": _methodology,
            "indicator": lambda row, load: _methodology(row, load).indicator,
            "period_start": lambda row, load: parse_date(row["period_start"]),
            "period_end": lambda row, load: parse_date(row["period_end"]),
        },
    ),
)


def _evidence_type(row: dict, load: Loading):
    """The evidence type the claim's methodology asks for under this requirement and code,
    of the row's kind; any other refuses the import."""
    claim = load.get("claims", row["claim"])
    key = (claim.methodology_id, row["requirement"], row["type"])
    evidence_type = load.found["evidence_types"].get(key)
    if evidence_type is None or evidence_type.kind != row["kind"]:
        raise ImportRefused(
            _("The evidence %(id)s is of a kind its methodology does not ask for.")
            % {"id": row["public_id"]}
        )
    return evidence_type


def _evidence_file(row: dict, load: Loading):
    return evidence_content(row) if row["kind"] == EvidenceKind.FILE else None


EVIDENCE = Table(
    name="evidence",
    model=Evidence,
    scope="claim__city",
    related=("claim", "evidence_type__requirement", "added_by", "entry"),
    columns=(
        "public_id",
        link("claim", "claims"),
        ("requirement", "evidence_type.requirement.code"),
        ("type", "evidence_type.code"),
        "kind",
        "filename",
        "media_type",
        ("content", base64_or_none("content")),
        "size",
        "dataset_ref",
        "sha256",
        account("added_by"),
        ENTRY,
        CREATED,
    ),
    optional=("filename", "media_type", "content", "size", "dataset_ref", "added_by", "created_at"),
    load=Load(
        in_city=False,
        text=("filename", "media_type", "dataset_ref"),
        zero=("size",),
        built={
            "evidence_type": _evidence_type,
            "content": _evidence_file,
        },
    ),
)

VERIFICATIONS = Table(
    name="verifications",
    model=Verification,
    scope="claim__city",
    related=("claim", "curator", "credential", "entry"),
    columns=(
        "public_id",
        link("claim", "claims"),
        link("curator", "curators"),
        "decision",
        "reason_code",
        "recomputed_quantity",
        link("credential", kind=CREDENTIAL, optional=True),
        "bounty_task_ref",
        "reward_owed_cents",
        ENTRY,
        CREATED,
    ),
    optional=("reason_code", "credential", "bounty_task_ref", "reward_owed_cents", "created_at"),
    signed_by="impact.claim.verify",
    load=Load(
        in_city=False,
        text=("reason_code", "bounty_task_ref"),
        zero=("reward_owed_cents",),
    ),
)

PORTFOLIOS = Table(
    name="portfolios",
    model=Portfolio,
    scope="city",
    related=("user", "identity"),
    columns=(
        "public_id",
        account("account", attr="user"),
        link("identity", kind="identity.identity", via="did"),
        "accepts_forward_orders",
        CREATED,
    ),
    load=Load(
        entry=False,
        flags=("accepts_forward_orders",),
    ),
)

SERIAL_COUNTERS = Table(
    name="serial_counters",
    model=SerialCounter,
    scope="city",
    related=("token_class",),
    columns=(
        link("token_class", "token_classes", via="code"),
        "vintage",
        "next_serial",
        "next_batch",
    ),
    unique=False,
    classed=True,
    load=Load(
        entry=False,
        stamps=(),
    ),
)

BATCHES = Table(
    name="batches",
    model=Batch,
    scope="city",
    related=("token_class", "claim", "portfolio", "credential", "entry"),
    columns=(
        "public_id",
        link("token_class", "token_classes", via="code"),
        "vintage",
        "number",
        "first_serial",
        "last_serial",
        "quantity",
        link("claim", "claims"),
        link("portfolio", "portfolios"),
        link("credential", kind=CREDENTIAL),
        ENTRY,
        ("issued_at", at("issued_at")),
    ),
    optional=("issued_at",),
    signed_by="impact.batch.issue",
    classed=True,
    load=Load(
        stamps=("issued_at",),
    ),
)

HOLDINGS = Table(
    name="holdings",
    model=Holding,
    scope="batch__city",
    related=("batch", "portfolio", "offer", "retirement", "redemption"),
    columns=(
        link("batch", "batches"),
        link("portfolio", "portfolios"),
        "first_serial",
        "last_serial",
        "quantity",
        "state",
        link("offer", "sell_offers", if_set=True),
        link("retirement", "retirements", if_set=True),
        link("redemption", "redemptions", if_set=True),
        ("updated_at", at("updated_at")),
    ),
    optional=("updated_at",),
    unique=False,
    load=Load(
        in_city=False,
        entry=False,
        stamps=("updated_at",),
        built={
            "token_class": _holding_class,
        },
    ),
)

TRANSFERS = Table(
    name="transfers",
    model=Transfer,
    scope="city",
    related=("token_class", "sender", "recipient", "entry"),
    columns=(
        "public_id",
        link("token_class", "token_classes", via="code"),
        link("sender", "portfolios"),
        link("recipient", "portfolios"),
        "quantity",
        "serials",
        "purpose",
        ENTRY,
        CREATED,
    ),
    signed_by="impact.token.transfer",
    classed=True,
    load=Load(),
)

RETIREMENTS = Table(
    name="retirements",
    model=Retirement,
    scope="city",
    related=("portfolio", "token_class", "entry"),
    columns=(
        "public_id",
        link("portfolio", "portfolios"),
        link("token_class", "token_classes", via="code"),
        "quantity",
        "beneficiary_did",
        "beneficiary_name",
        "reason_code",
        "serials",
        ENTRY,
        CREATED,
    ),
    optional=("beneficiary_did", "beneficiary_name", "created_at"),
    signed_by="impact.token.retire",
    classed=True,
    load=Load(
        text=("beneficiary_did", "beneficiary_name"),
    ),
)

SELL_OFFERS = Table(
    name="sell_offers",
    model=SellOffer,
    scope="city",
    related=("seller", "token_class", "entry"),
    columns=(
        "public_id",
        link("seller", "portfolios"),
        link("token_class", "token_classes", via="code"),
        "quantity",
        "remaining",
        "unit_price_cents",
        "status",
        ENTRY,
        CREATED,
        ("closed_at", at("closed_at")),
    ),
    optional=("created_at", "closed_at"),
    signed_by="impact.offer.create",
    classed=True,
    load=Load(
        stamps=("created_at", "closed_at"),
    ),
)

REDEMPTIONS = Table(
    name="redemptions",
    model=Redemption,
    scope="city",
    related=("portfolio", "membership", "token_class", "payable", "entry"),
    columns=(
        "public_id",
        link("portfolio", "portfolios"),
        link("membership", kind=MEMBERSHIP),
        link("token_class", "token_classes", via="code"),
        "quantity",
        "amount_cents",
        "serials",
        link("payable", "payables"),
        ENTRY,
        CREATED,
    ),
    signed_by="impact.token.redeem",
    classed=True,
    load=Load(),
)

# Only the rate in force leaves (a rate set again replaces its row), so its transactions
# are not one row each.
REDEMPTION_RATES = Table(
    name="redemption_rates",
    model=RedemptionRate,
    scope="city",
    related=("token_class", "set_by", "entry"),
    columns=(
        link("token_class", "token_classes", via="code"),
        "cents_per_unit",
        account("set_by"),
        ENTRY,
        ("updated_at", at("updated_at")),
    ),
    optional=("updated_at",),
    unique=False,
    classed=True,
    load=Load(
        stamps=("updated_at",),
    ),
)

PAYABLES = Table(
    name="payables",
    model=Payable,
    scope="city",
    related=("payee", "proposal", "entry", "paid_entry"),
    columns=(
        "public_id",
        "kind",
        link("payee", "portfolios"),
        "payee_did",
        "amount_cents",
        "status",
        link("proposal", kind="governance.proposal", optional=True),
        ENTRY,
        ("paid_entry", entry("paid_entry")),
        CREATED,
        ("paid_at", at("paid_at")),
    ),
    optional=("proposal", "paid_entry", "created_at", "paid_at"),
    signed_by="impact.payable.create",
    load=Load(
        stamps=("created_at", "paid_at"),
        built={
            "paid_entry_id": _paid_entry,
        },
    ),
)

# --- market and community -------------------------------------------------------------------

PURCHASES = Table(
    name="purchases",
    model=Purchase,
    scope="offer__city",
    related=("offer", "buyer", "transfer", "movement", "payable", "entry"),
    columns=(
        "public_id",
        link("offer", "sell_offers"),
        link("buyer", "portfolios"),
        "quantity",
        "amount_cents",
        link("transfer", "transfers"),
        link("movement", "movements"),
        link("payable", "payables"),
        ENTRY,
        CREATED,
    ),
    signed_by="impact.offer.buy",
    load=Load(
        in_city=False,
    ),
)

FORWARD_ORDERS = Table(
    name="forward_orders",
    model=ForwardOrder,
    scope="city",
    related=("investor", "token_class", "movement", "entry"),
    columns=(
        "public_id",
        link("investor", "portfolios"),
        link("token_class", "token_classes", via="code"),
        "quantity",
        "filled",
        "unit_price_cents",
        "status",
        link("movement", "movements"),
        ENTRY,
        CREATED,
    ),
    signed_by="impact.forward.create",
    classed=True,
    load=Load(),
)

FORWARD_FILLS = Table(
    name="forward_fills",
    model=ForwardFill,
    scope="order__city",
    related=("order", "batch", "transfer", "payable"),
    columns=(
        link("order", "forward_orders"),
        link("batch", "batches"),
        "quantity",
        link("transfer", "transfers"),
        link("payable", "payables"),
        CREATED,
    ),
    unique=False,
    load=Load(
        in_city=False,
        entry=False,
    ),
)

MERCHANT_OFFERS = Table(
    name="merchant_offers",
    model=MerchantOffer,
    scope="city",
    related=("merchant", "token_class", "entry"),
    columns=(
        "public_id",
        link("merchant", "portfolios"),
        "title",
        "description",
        link("token_class", "token_classes", via="code"),
        "price_quantity",
        "settlement",
        "stock",
        "active",
        ENTRY,
        CREATED,
    ),
    signed_by="impact.merchant.offer",
    classed=True,
    load=Load(
        flags=("active",),
    ),
)

MERCHANT_REDEMPTIONS = Table(
    name="merchant_redemptions",
    model=MerchantRedemption,
    scope="offer__city",
    related=("offer", "buyer", "transfer", "retirement", "entry"),
    columns=(
        "public_id",
        link("offer", "merchant_offers"),
        link("buyer", "portfolios"),
        "items",
        "quantity",
        link("transfer", "transfers", optional=True),
        link("retirement", "retirements", optional=True),
        ENTRY,
        CREATED,
    ),
    signed_by="impact.merchant.redeem",
    load=Load(
        in_city=False,
    ),
)

PROJECTS = Table(
    name="projects",
    model=Project,
    scope="city",
    related=("owner", "token_class", "entry"),
    columns=(
        "public_id",
        link("owner", "portfolios"),
        "title",
        "description",
        link("token_class", "token_classes", via="code", optional=True),
        "goal_quantity",
        "goal_cents",
        "collected_quantity",
        "collected_cents",
        "status",
        ENTRY,
        CREATED,
    ),
    signed_by="impact.project.create",
    classed=True,
    load=Load(),
)

CONTRIBUTIONS = Table(
    name="contributions",
    model=Contribution,
    scope="project__city",
    related=("project", "contributor", "transfer", "movement", "payable", "entry"),
    columns=(
        "public_id",
        link("project", "projects"),
        link("contributor", "portfolios"),
        "quantity",
        "amount_cents",
        link("transfer", "transfers", optional=True),
        link("movement", "movements", optional=True),
        link("payable", "payables", optional=True),
        ENTRY,
        CREATED,
    ),
    signed_by="impact.project.contribute",
    load=Load(
        in_city=False,
    ),
)

PARTICIPATION_CALLS = Table(
    name="participation_calls",
    model=ParticipationCall,
    scope="city",
    related=("created_by", "token_class", "entry"),
    columns=(
        "public_id",
        link("created_by", kind=MEMBERSHIP),
        "title",
        "description",
        link("token_class", "token_classes", via="code"),
        "reward_quantity",
        "places",
        "status",
        ENTRY,
        CREATED,
    ),
    signed_by="impact.call.create",
    classed=True,
    load=Load(),
)

PARTICIPATIONS = Table(
    name="participations",
    model=Participation,
    scope="call__city",
    related=("call", "membership", "transfer", "entry"),
    columns=(
        link("call", "participation_calls"),
        link("membership", kind=MEMBERSHIP),
        "status",
        link("transfer", "transfers", optional=True),
        ENTRY,
        CREATED,
    ),
    unique=False,
    signed_by="impact.call.register",
    load=Load(
        in_city=False,
    ),
)

# The export's order (and the order the checks look at the tables in).
TABLES: tuple[Table, ...] = (
    CURATORS,
    CLAIM_BATCHES,
    CLAIMS,
    EVIDENCE,
    VERIFICATIONS,
    PORTFOLIOS,
    SERIAL_COUNTERS,
    BATCHES,
    HOLDINGS,
    TRANSFERS,
    RETIREMENTS,
    SELL_OFFERS,
    REDEMPTIONS,
    REDEMPTION_RATES,
    PAYABLES,
    PURCHASES,
    FORWARD_ORDERS,
    FORWARD_FILLS,
    MERCHANT_OFFERS,
    MERCHANT_REDEMPTIONS,
    PROJECTS,
    CONTRIBUTIONS,
    PARTICIPATION_CALLS,
    PARTICIPATIONS,
)
BY_NAME = {table.name: table for table in TABLES}

# A table is written after every table its rows name (holdings last of the tokens: they
# name offers, retirements and redemptions).
LOAD_ORDER: tuple[Table, ...] = (
    PORTFOLIOS,
    CURATORS,
    CLAIM_BATCHES,
    CLAIMS,
    EVIDENCE,
    VERIFICATIONS,
    SERIAL_COUNTERS,
    BATCHES,
    PAYABLES,
    SELL_OFFERS,
    RETIREMENTS,
    REDEMPTIONS,
    REDEMPTION_RATES,
    TRANSFERS,
    HOLDINGS,
    PURCHASES,
    FORWARD_ORDERS,
    FORWARD_FILLS,
    MERCHANT_OFFERS,
    MERCHANT_REDEMPTIONS,
    PROJECTS,
    CONTRIBUTIONS,
    PARTICIPATION_CALLS,
    PARTICIPATIONS,
)

# Transactions whose every occurrence on the chain must have its row (kind -> table).
# Evidence is checked after these (`check._check_complete`), as it always was.
ONE_ROW_PER_TX = {table.signed_by: table.name for table in TABLES if table.signed_by}
EVIDENCE_KIND = "impact.evidence.add"
