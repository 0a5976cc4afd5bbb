"""What the portability tests share: an empty database, and what a city shows."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from governance.models import City, Membership, RulesVersion
from governance.selectors import (
    colleges_of,
    comments_of,
    movements_page,
    proposals_of,
    results_of,
    treasury_balances,
)
from identity.models import Attestation
from ledger.selectors import block_checkpoint, block_latest, tree_root
from marketplace.models import Audit, ContractExecution, Deployment, Fee, ServiceVersion


def wipe_database() -> None:
    """Every table emptied, as on a fresh instance (the test's transaction restores them)."""
    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with foreign-key checks still pending in this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    ContentType.objects.clear_cache()


def row_counts() -> dict[str, int]:
    """Rows of every table of ours and of the accounts: a refused import changes none."""
    labels = {"ledger", "identity", "governance", "marketplace", "account"}
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


def city_view(slug: str) -> dict:
    """What the city shows, through the selectors the pages use (no database key)."""
    city = City.objects.select_related("chain", "identity").get(slug=slug)
    colleges = colleges_of(city)
    staff = Membership.objects.filter(
        city=city, status="approved", college__kind="municipality"
    ).first()
    proposals = []
    for proposal in proposals_of(city, viewer=staff):
        proposals.append(
            {
                "public_id": proposal.public_id,
                "kind": proposal.kind,
                "title": proposal.title,
                "status": proposal.status,
                "author": proposal.author.identity.did,
                "created_at": proposal.created_at,
                "closes_at": proposal.closes_at,
                "tally": proposal.tally,
                "results": results_of(proposal, colleges=colleges),
                "electorate": sorted(proposal.electorate.values_list("did", "college__slug")),
                "ballots": sorted(
                    proposal.ballots.values_list(
                        "membership__identity__did", "choice", "selection", "entry__tx_hash"
                    )
                ),
                "comments": [(c.body, c.entry.tx_hash) for c in comments_of(proposal)],
                "projects": list(
                    proposal.budget_projects.values_list(
                        "public_id", "title", "cost_cents", "recipient"
                    )
                ),
            }
        )
    chain = city.chain
    block = block_latest(chain=chain)
    movements = movements_page(city, page=1, per_page=100)
    return {
        "city": (city.slug, city.name, city.identity.did, city.postal_codes, city.created_at),
        "colleges": [(c.slug, c.kind, c.position, c.member_count) for c in colleges],
        "members": sorted(
            Membership.objects.filter(city=city).values_list(
                "public_id",
                "status",
                "college__slug",
                "user__email",
                "identity__did",
                "credential__digest",
                "credential__revoked_at",
                "postal_address",
                "siret",
                "requested_at",
            )
        ),
        "rules": list(
            RulesVersion.objects.filter(city=city)
            .order_by("version")
            .values_list("version", "digest", "adopted_by__public_id")
        ),
        "proposals": proposals,
        "attestations": list(
            Attestation.objects.filter(entry__chain=city.chain).values_list(
                "public_id", "identity__did", "digest", "entry__tx_hash", "created_at"
            )
        ),
        "treasury": treasury_balances(city),
        "movements": [
            (m.public_id, m.label, m.lines, m.amount, m.entry.tx_hash) for m in movements
        ],
        "chain": {
            "size": chain.size,
            "sealed_size": chain.sealed_size,
            "blocks": chain.block_count,
            "head": chain.head_block_hash,
            "root": tree_root(chain=chain, size=chain.size).hex(),
            "checkpoint": block_checkpoint(block=block),
        },
    }


def appstore_view(slug: str) -> dict:
    """The city's app store rows as the pages read them (no database key, no ledger entry of
    the network chain: those are this instance's own)."""
    city = City.objects.get(slug=slug)
    deployments = Deployment.objects.filter(city=city)
    versions = ServiceVersion.objects.filter(deployments__in=deployments).distinct()
    return {
        "deployments": sorted(
            deployments.values_list(
                "public_id",
                "service__public_id",
                "service__name",
                "service__provider__name",
                "service__provider__siret",
                "service__provider__identity__did",
                "service__provider__owner__email",
                "service__provider__membership__public_id",
                "version__public_id",
                "active",
                "proposal__public_id",
                "deployed_at",
            )
        ),
        "versions": sorted(
            versions.values_list(
                "public_id",
                "number",
                "status",
                "audited_at",
                "purposes",
                "legal_basis",
                "retention",
                "personal_data",
                "recipients",
                "declaration_digest",
                "deployment_fee_cents",
                "execution_fee_cents",
            )
        ),
        "audits": sorted(
            Audit.objects.filter(version__in=versions).values_list(
                "public_id", "kind", "verdict", "findings", "auditor_identity__did", "created_at"
            )
        ),
        "fees": sorted(
            Fee.objects.filter(city=city).values_list(
                "kind",
                "amount_cents",
                "operator_cents",
                "data_owners_cents",
                "local_projects_cents",
                "movement__public_id",
                "movement__entry__tx_hash",
                "proposal__public_id",
                "created_at",
            )
        ),
        "executions": sorted(
            ContractExecution.objects.filter(deployment__city=city).values_list(
                "public_id", "reference", "fee__amount_cents", "entry__tx_hash", "created_at"
            )
        ),
    }


def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "bourg-export"


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def rewrite_json(directory: Path, name: str, change, *, fix_digest: bool) -> None:
    """Change a file of the export with `change(data)`; with `fix_digest`, also record the new
    digest in the manifest (a forger who knows the format)."""
    path = directory / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    if fix_digest:
        manifest_path = directory / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["files"][name]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
