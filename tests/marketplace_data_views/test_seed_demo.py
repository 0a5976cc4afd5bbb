"""The demo's data marketplace (seed_demo): the curators college and its curator, ontologies
and datasets hosted encrypted, curated field links with rewards, offers, an agreement with
its consents, deliveries, a purge acknowledged and a paid invoice; loading it again changes
nothing, and the ledger still verifies."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from ledger.models import Transaction
from marketplace.data.models import (
    Consent,
    CreditorAccount,
    Curation,
    Dataset,
    Delivery,
    FieldMapping,
    Invoice,
    Ontology,
    PurgeRequest,
)

pytestmark = pytest.mark.django_db


def test_the_demo_data_marketplace_is_complete_and_reloads_unchanged(data_root):
    call_command("seed_demo", stdout=io.StringIO())
    transactions = Transaction.objects.count()

    assert Dataset.objects.filter(city__slug="montpellier").count() == 3
    assert Dataset.objects.filter(is_personal=True).count() == 1
    assert len(list(data_root.rglob("*.bin"))) == 3
    assert sorted(Ontology.objects.values_list("status", flat=True)) == [
        "accepted",
        "accepted",
        "pending",
    ]
    assert sorted(FieldMapping.objects.values_list("status", flat=True)) == [
        "accepted",
        "accepted",
        "pending",
    ]
    rewards = Curation.objects.filter(curator__user__email="donnees@demo.smartb.fr")
    assert rewards.count() == 4 and all(c.reward_cents > 0 and c.task_id for c in rewards)
    statuses = dict(Consent.objects.values_list("subject__user__email", "status"))
    assert statuses == {
        "resident@demo.smartb.fr": "given",
        "lea@demo.smartb.fr": "revoked",
        "hugo@demo.smartb.fr": "refused",
        "ines@demo.smartb.fr": "requested",
    }
    assert Delivery.objects.count() == 2
    assert list(PurgeRequest.objects.values_list("status", flat=True)) == ["acknowledged"]
    assert list(Invoice.objects.values_list("status", flat=True)) == ["paid"]
    account = CreditorAccount.objects.get(city__slug="montpellier")  # fictitious, valid IBAN
    assert account.iban == "FR183000600001DEMO340000144" and "fictif" in account.holder_name
    assert account.entry.payload["iban_last4"] == "0144"
    assert not CreditorAccount.objects.filter(city__slug="sete").exists()

    call_command("seed_demo", stdout=io.StringIO())
    assert Transaction.objects.count() == transactions
    assert Dataset.objects.count() == 3
    call_command("ledger_verify", stdout=io.StringIO())
