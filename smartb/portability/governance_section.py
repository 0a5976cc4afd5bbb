"""The governance section: the city, its colleges, memberships (with the evidence the
municipality checked: it is the city's own data), rules versions, proposals, budget projects,
electorate snapshots, ballots, comments, treasury accounts, movements and postings.

Rows bound to a ledger transaction keep its index, and the import checks that they agree with
it (a ballot with its signed vote, a comment with its digest, a movement with its postings).
`decided_by` names an account only when that account leaves with the city (a member): the
operator who appointed the first staff stays with the network, and their DID on the ledger
still says who appointed whom.
"""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _

from governance.models import (
    Account,
    AccountKind,
    Ballot,
    BudgetProject,
    Choice,
    City,
    College,
    CollegeKind,
    Comment,
    ElectorateEntry,
    Membership,
    MembershipStatus,
    Movement,
    Posting,
    Proposal,
    ProposalStatus,
    RulesVersion,
)
from ledger.models import NETWORK_CHAIN_SLUG, Transaction

from .errors import ImportRefused
from .registry import ExportContext, ImportContext, Tables, register_section
from .rows import insert_rows, moment, require_fields, stamp

KIND_CITY_CREATE = "governance.city.create"
KIND_VOTE = "governance.vote.cast"
KIND_COMMENT = "governance.comment.add"
KIND_MOVE = "governance.treasury.move"

REQUIRED = {
    "city": ("slug", "name", "identity", "postal_codes", "created_at"),
    "colleges": ("slug", "name", "kind", "position"),
    "accounts": ("code", "name", "kind"),
    "rules_versions": ("version", "rules", "digest", "created_at"),
    "memberships": ("public_id", "college", "account", "identity", "status", "requested_at"),
    "proposals": ("public_id", "kind", "title", "author", "status", "created_at"),
    "budget_projects": ("public_id", "proposal", "title", "cost_cents", "recipient"),
    "electorate": ("proposal", "membership", "college", "did"),
    "ballots": ("proposal", "membership", "college", "choice", "entry", "cast_at"),
    "comments": ("public_id", "proposal", "membership", "body", "entry", "created_at"),
    "movements": ("public_id", "label", "entry", "created_at"),
    "postings": ("movement", "account", "amount_cents"),
}


def export_governance(ctx: ExportContext) -> Tables:
    city = City.objects.select_related("identity", "chain").get(pk=ctx.city.pk)
    ctx.include_account(city.identity.user_id)
    for pk in Transaction.objects.filter(
        chain__slug=NETWORK_CHAIN_SLUG, kind=KIND_CITY_CREATE, payload__city=city.slug
    ).values_list("pk", flat=True):
        ctx.include_network_entry(pk)

    memberships = list(
        Membership.objects.filter(city=city)
        .select_related("college", "user", "identity", "decided_by", "credential")
        .order_by("pk")
    )
    leaving = {m.user_id for m in memberships} | {city.identity.user_id}
    for membership in memberships:
        ctx.include_account(membership.user_id)
        ctx.include_credential(membership.credential_id)

    def entry(row: dict) -> int:
        return ctx.entry_index(chain_id=row.pop("entry__chain_id"), index=row.pop("entry__index"))

    ballots = []
    for row in (
        Ballot.objects.filter(proposal__city=city)
        .order_by("pk")
        .values(
            "proposal__public_id",
            "membership__public_id",
            "college__slug",
            "choice",
            "selection",
            "entry__chain_id",
            "entry__index",
            "cast_at",
        )
    ):
        ballots.append(
            {
                "proposal": row["proposal__public_id"],
                "membership": row["membership__public_id"],
                "college": row["college__slug"],
                "choice": row["choice"],
                "selection": row["selection"],
                "entry": entry(row),
                "cast_at": stamp(row["cast_at"]),
            }
        )
    return {
        "city": [
            {
                "slug": city.slug,
                "name": city.name,
                "identity": city.identity.did,
                "postal_codes": city.postal_codes,
                "created_at": stamp(city.created_at),
                "independent_at": stamp(city.independent_at),
            }
        ],
        "colleges": [
            {"slug": c.slug, "name": c.name, "kind": c.kind, "position": c.position}
            for c in College.objects.filter(city=city).order_by("pk")
        ],
        "accounts": [
            {"code": a.code, "name": a.name, "kind": a.kind}
            for a in Account.objects.filter(city=city).order_by("pk")
        ],
        "rules_versions": [
            {
                "version": r.version,
                "rules": r.rules,
                "digest": r.digest,
                "adopted_by": r.adopted_by.public_id if r.adopted_by else None,
                "created_at": stamp(r.created_at),
            }
            for r in RulesVersion.objects.filter(city=city)
            .select_related("adopted_by")
            .order_by("pk")
        ],
        "memberships": [
            {
                "public_id": m.public_id,
                "college": m.college.slug,
                "account": m.user.public_id,
                "identity": m.identity.did,
                "status": m.status,
                "postal_address": m.postal_address,
                "postal_code": m.postal_code,
                "siret": m.siret,
                "requested_at": stamp(m.requested_at),
                "decided_at": stamp(m.decided_at),
                "decided_by": (m.decided_by.public_id if m.decided_by_id in leaving else None),
                "reason": m.reason,
                "credential": m.credential.public_id if m.credential else None,
            }
            for m in memberships
        ],
        "proposals": [
            {
                "public_id": p.public_id,
                "kind": p.kind,
                "title": p.title,
                "body": p.body,
                "parameters": p.parameters,
                "author": p.author.public_id,
                "status": p.status,
                "rules_version": p.rules.version if p.rules else None,
                "created_at": stamp(p.created_at),
                "opens_at": stamp(p.opens_at),
                "closes_at": stamp(p.closes_at),
                "closed_at": stamp(p.closed_at),
                "executed_at": stamp(p.executed_at),
                "electorate_digest": p.electorate_digest,
                "electorate_sizes": p.electorate_sizes,
                "tally": p.tally,
                "failure_reason": p.failure_reason,
            }
            for p in Proposal.objects.filter(city=city)
            .select_related("author", "rules")
            .order_by("pk")
        ],
        "budget_projects": [
            {
                "public_id": b.public_id,
                "proposal": b.proposal.public_id,
                "title": b.title,
                "description": b.description,
                "cost_cents": b.cost_cents,
                "recipient": b.recipient,
                "position": b.position,
                "created_at": stamp(b.created_at),
            }
            for b in BudgetProject.objects.filter(proposal__city=city)
            .select_related("proposal")
            .order_by("pk")
        ],
        "electorate": [
            {
                "proposal": row["proposal__public_id"],
                "membership": row["membership__public_id"],
                "college": row["college__slug"],
                "did": row["did"],
            }
            for row in ElectorateEntry.objects.filter(proposal__city=city)
            .order_by("pk")
            .values("proposal__public_id", "membership__public_id", "college__slug", "did")
        ],
        "ballots": ballots,
        "comments": [
            {
                "public_id": row["public_id"],
                "proposal": row["proposal__public_id"],
                "membership": row["membership__public_id"],
                "body": row["body"],
                "entry": entry(row),
                "created_at": stamp(row["created_at"]),
            }
            for row in Comment.objects.filter(proposal__city=city)
            .order_by("pk")
            .values(
                "public_id",
                "proposal__public_id",
                "membership__public_id",
                "body",
                "entry__chain_id",
                "entry__index",
                "created_at",
            )
        ],
        "movements": [
            {
                "public_id": row["public_id"],
                "label": row["label"],
                "proposal": row["proposal__public_id"],
                "entry": entry(row),
                "created_at": stamp(row["created_at"]),
            }
            for row in Movement.objects.filter(city=city)
            .order_by("pk")
            .values(
                "public_id",
                "label",
                "proposal__public_id",
                "entry__chain_id",
                "entry__index",
                "created_at",
            )
        ],
        "postings": [
            {
                "movement": row["movement__public_id"],
                "account": row["account__code"],
                "amount_cents": row["amount_cents"],
            }
            for row in Posting.objects.filter(movement__city=city)
            .order_by("pk")
            .values("movement__public_id", "account__code", "amount_cents")
        ],
    }


def check_governance(ctx: ImportContext, tables: Tables) -> None:
    """Rows are well formed, their public ids are new here, and every row bound to a ledger
    transaction agrees with what that transaction signed."""
    for table, fields in REQUIRED.items():
        require_fields(tables.get(table, []), fields, table)
    if len(tables.get("city", [])) != 1:
        raise ImportRefused(_("The governance section describes no city, or several."))
    if tables["city"][0]["slug"] != ctx.manifest["city"]:
        raise ImportRefused(_("The governance section describes another city."))
    for table, name, allowed in (
        ("colleges", "kind", CollegeKind.values),
        ("accounts", "kind", AccountKind.values),
        ("memberships", "status", MembershipStatus.values),
        ("proposals", "status", ProposalStatus.values),
        ("ballots", "choice", Choice.values),
    ):
        if any(row[name] not in allowed for row in tables.get(table, [])):
            raise ImportRefused(
                _("A row of %(table)s has an unknown %(field)s.") % {"table": table, "field": name}
            )
    for model, table in (
        (Membership, "memberships"),
        (Proposal, "proposals"),
        (BudgetProject, "budget_projects"),
        (Comment, "comments"),
        (Movement, "movements"),
    ):
        ids = [row["public_id"] for row in tables.get(table, [])]
        if model.objects.filter(public_id__in=ids).exists():
            raise ImportRefused(_("A row of %(table)s exists here already.") % {"table": table})
    dids = {row["public_id"]: row["identity"] for row in tables["memberships"]}
    for ballot in tables.get("ballots", []):
        tx = ctx.transaction(ballot["entry"])
        payload = tx["payload"] if isinstance(tx["payload"], dict) else {}
        if (
            tx["kind"] != KIND_VOTE
            or tx["actor"] != dids.get(ballot["membership"])
            or payload.get("proposal") != ballot["proposal"]
            or payload.get("college") != ballot["college"]
            or ("choice" in payload and payload["choice"] != ballot["choice"])
            or ("selection" in payload and payload["selection"] != ballot.get("selection"))
        ):
            raise _disagrees("ballot", ballot["entry"])
    for comment in tables.get("comments", []):
        tx = ctx.transaction(comment["entry"])
        digest = hashlib.sha256(str(comment["body"]).encode()).hexdigest()
        if (
            tx["kind"] != KIND_COMMENT
            or tx["actor"] != dids.get(comment["membership"])
            or tx["payload"].get("content") != digest
        ):
            raise _disagrees("comment", comment["entry"])
    postings: dict[str, list] = {}
    for posting in tables.get("postings", []):
        postings.setdefault(posting["movement"], []).append(
            {"account": posting["account"], "amount_cents": posting["amount_cents"]}
        )
    for movement in tables.get("movements", []):
        tx = ctx.transaction(movement["entry"])
        digest = hashlib.sha256(str(movement["label"]).encode()).hexdigest()
        if (
            tx["kind"] != KIND_MOVE
            or tx["payload"].get("label") != digest
            or tx["payload"].get("postings") != postings.get(movement["public_id"], [])
            or tx["payload"].get("proposal") != movement.get("proposal")
        ):
            raise _disagrees("movement", movement["entry"])


def _disagrees(what: str, index: int) -> ImportRefused:
    return ImportRefused(
        _("A %(what)s of the export disagrees with ledger transaction %(index)s.")
        % {"what": what, "index": index}
    )


def import_governance(ctx: ImportContext, tables: Tables) -> None:
    row = tables["city"][0]
    city = insert_rows(
        City,
        [
            City(
                slug=row["slug"],
                name=row["name"],
                chain=ctx.chain,
                identity=ctx.ref("identity.identity", row["identity"]),
                postal_codes=row["postal_codes"],
                created_at=moment(row["created_at"]),
                independent_at=moment(row.get("independent_at")),
            )
        ],
    )[0]
    ctx.city = city
    colleges = {
        c.slug: c
        for c in insert_rows(
            College,
            [
                College(
                    city=city,
                    slug=r["slug"],
                    name=r["name"],
                    kind=r["kind"],
                    position=r["position"],
                )
                for r in tables.get("colleges", [])
            ],
        )
    }
    accounts = {
        a.code: a
        for a in insert_rows(
            Account,
            [
                Account(city=city, code=r["code"], name=r["name"], kind=r["kind"])
                for r in tables.get("accounts", [])
            ],
        )
    }
    rules_rows = tables.get("rules_versions", [])
    rules = {
        r.version: r
        for r in insert_rows(
            RulesVersion,
            [
                RulesVersion(
                    city=city,
                    version=r["version"],
                    rules=r["rules"],
                    digest=r["digest"],
                    created_at=moment(r["created_at"]),
                )
                for r in rules_rows
            ],
        )
    }
    memberships = {
        m.public_id: m
        for m in insert_rows(
            Membership,
            [
                Membership(
                    public_id=r["public_id"],
                    city=city,
                    college=_get(colleges, r["college"], "college"),
                    user=ctx.ref("identity.user", r["account"]),
                    identity=ctx.ref("identity.identity", r["identity"]),
                    status=r["status"],
                    postal_address=r.get("postal_address") or "",
                    postal_code=r.get("postal_code") or "",
                    siret=r.get("siret") or "",
                    requested_at=moment(r["requested_at"]),
                    decided_at=moment(r.get("decided_at")),
                    decided_by=ctx.ref("identity.user", r.get("decided_by"), optional=True),
                    reason=r.get("reason") or "",
                    credential=ctx.ref("identity.credential", r.get("credential")),
                )
                for r in tables.get("memberships", [])
            ],
        )
    }
    proposals = {
        p.public_id: p
        for p in insert_rows(
            Proposal,
            [
                Proposal(
                    public_id=r["public_id"],
                    city=city,
                    kind=r["kind"],
                    title=r["title"],
                    body=r.get("body") or "",
                    parameters=r.get("parameters") or {},
                    author=_get(memberships, r["author"], "membership"),
                    status=r["status"],
                    rules=_get(rules, r.get("rules_version"), "rules version"),
                    created_at=moment(r["created_at"]),
                    opens_at=moment(r.get("opens_at")),
                    closes_at=moment(r.get("closes_at")),
                    closed_at=moment(r.get("closed_at")),
                    executed_at=moment(r.get("executed_at")),
                    electorate_digest=r.get("electorate_digest") or "",
                    electorate_sizes=r.get("electorate_sizes") or {},
                    tally=r.get("tally"),
                    failure_reason=r.get("failure_reason") or "",
                )
                for r in tables.get("proposals", [])
            ],
        )
    }
    for city_rules in rules_rows:
        if city_rules.get("adopted_by"):
            version = rules[city_rules["version"]]
            version.adopted_by = _get(proposals, city_rules["adopted_by"], "proposal")
            version.save(update_fields=["adopted_by"])
    for proposal in proposals.values():
        ctx.remember("governance.proposal", proposal.public_id, proposal)
    for membership in memberships.values():
        ctx.remember("governance.membership", membership.public_id, membership)
    ctx.remember("governance.city", city.slug, city)
    insert_rows(
        BudgetProject,
        [
            BudgetProject(
                public_id=r["public_id"],
                proposal=_get(proposals, r["proposal"], "proposal"),
                title=r["title"],
                description=r.get("description") or "",
                cost_cents=r["cost_cents"],
                recipient=r["recipient"],
                position=r.get("position", 0),
                created_at=moment(r.get("created_at")),
            )
            for r in tables.get("budget_projects", [])
        ],
    )
    insert_rows(
        ElectorateEntry,
        [
            ElectorateEntry(
                proposal=_get(proposals, r["proposal"], "proposal"),
                membership=_get(memberships, r["membership"], "membership"),
                college=_get(colleges, r["college"], "college"),
                did=r["did"],
            )
            for r in tables.get("electorate", [])
        ],
    )
    insert_rows(
        Ballot,
        [
            Ballot(
                proposal=_get(proposals, r["proposal"], "proposal"),
                membership=_get(memberships, r["membership"], "membership"),
                college=_get(colleges, r["college"], "college"),
                choice=r["choice"],
                selection=r.get("selection") or [],
                entry_id=ctx.entry_pk(r["entry"]),
                cast_at=moment(r["cast_at"]),
            )
            for r in tables.get("ballots", [])
        ],
    )
    insert_rows(
        Comment,
        [
            Comment(
                public_id=r["public_id"],
                proposal=_get(proposals, r["proposal"], "proposal"),
                membership=_get(memberships, r["membership"], "membership"),
                body=r["body"],
                entry_id=ctx.entry_pk(r["entry"]),
                created_at=moment(r["created_at"]),
            )
            for r in tables.get("comments", [])
        ],
    )
    movements = {
        m.public_id: m
        for m in insert_rows(
            Movement,
            [
                Movement(
                    public_id=r["public_id"],
                    city=city,
                    label=r["label"],
                    proposal=_get(proposals, r.get("proposal"), "proposal"),
                    entry_id=ctx.entry_pk(r["entry"]),
                    created_at=moment(r["created_at"]),
                )
                for r in tables.get("movements", [])
            ],
        )
    }
    insert_rows(
        Posting,
        [
            Posting(
                movement=_get(movements, r["movement"], "movement"),
                account=_get(accounts, r["account"], "account"),
                amount_cents=r["amount_cents"],
            )
            for r in tables.get("postings", [])
        ],
    )


def _get(rows: dict, key, what: str):
    """The row created for `key` in this import (None for None); a dangling key refuses."""
    if key is None:
        return None
    if key not in rows:
        raise ImportRefused(
            _("The export refers to a %(what)s it does not contain (%(key)s).")
            % {"what": what, "key": key}
        )
    return rows[key]


register_section(
    "governance",
    exporter=export_governance,
    importer=import_governance,
    checker=check_governance,
    after=("ledger", "identity"),
)
