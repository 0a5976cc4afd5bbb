"""Nothing an app store service writes to the ledger holds personal data or free text: the
ledger has ids, DIDs, integers and digests; the texts stay in the database."""

from ledger.models import Transaction
from marketplace.models import Deployment
from marketplace.services import audit_record, audit_request, execution_record
from tests.factories import version_make

from .helpers import decide


def test_a_whole_app_store_flow_leaves_only_ids_and_digests(city, mayor, version, auditor):
    rejected = version_make(service=version.service, purposes="Suivre Jean Dupont à la trace.")
    audit_request(version=rejected, by=version.service.provider.owner)
    audit_record(
        version=rejected,
        auditor=auditor,
        kind="legal",
        findings="Données de Jean Dupont, jean@example.org.",
        verdict="fail",
        reason="Finalité illicite pour Jean Dupont.",
    )
    decide(mayor, version)
    execution_record(deployment=Deployment.objects.get(), reference="run-1")
    provider = version.service.provider
    secrets = [
        provider.name,
        provider.siret,
        provider.owner.email,
        version.service.name,
        version.purposes,
        "Jean Dupont",
        "jean@example.org",
        version.retention,
    ]
    payloads = [str(t.payload) for t in Transaction.objects.filter(kind__startswith="marketplace.")]
    assert len(payloads) > 10
    for text in payloads:
        for secret in secrets:
            assert secret not in text
