"""GDPR: a resident downloads everything the platform holds about them, and erases their
account: their records leave the datasets (re-encrypted under a new key, the old one
destroyed), their keys and profile are gone, and every ledger still verifies."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from identity.models import Identity
from ledger.models import Actor
from marketplace.data.models import DataSubject, DistributionSubject
from marketplace.data.services.access import plaintext
from marketplace.data.services.wallet import CannotErase, account_erase, gdpr_export
from marketplace.data.storage import absolute

from .helpers import agree, answer, download


def ledger_verify_all() -> tuple[str, str]:
    """Verify every chain; ledger_verify exits with 1 on the first failure."""
    out, err = StringIO(), StringIO()
    call_command("ledger_verify", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def agreement(personal_offer, consumer, residents):
    agreement = agree(personal_offer, consumer)
    answer(agreement, residents[0])
    answer(agreement, residents[1])
    download(agreement, consumer)
    return agreement


def test_the_archive_holds_everything_about_me(agreement, residents):
    alice = residents[0]
    archive = gdpr_export(user=alice.user)
    assert archive["account"]["email"] == alice.user.email
    assert [d["did"] for d in archive["dids"]] == [alice.identity.did]
    assert archive["memberships"][0]["postal_address"] == alice.postal_address
    assert archive["consents"][0]["status"] == "given"
    assert archive["consents"][0]["receipt"]["piiPrincipalId"] == alice.identity.did
    assert archive["agreements_touching_me"][0]["agreement"] == agreement.public_id
    records = archive["records_in_datasets"][0]
    lines = records["content"].splitlines()
    assert lines[0] == "subject,date,litres"
    assert len(lines) == 3 and all(alice.identity.did in line for line in lines[1:])
    assert residents[1].identity.did not in records["content"]
    assert archive["ledger_transactions"]


def test_erasing_removes_my_records_and_keys_and_the_ledgers_still_verify(
    agreement, residents, personal_dataset, django_capture_on_commit_callbacks
):
    alice, bob, _ = residents
    version = personal_dataset.versions.get()
    distribution = version.distributions.get()
    old_path = absolute(distribution.storage_path)
    old_key = bytes(version.wrapped_key)
    old_sha = distribution.sha256

    with django_capture_on_commit_callbacks(execute=True):
        user = account_erase(user=alice.user)

    assert not user.is_active and user.email == "" and user.first_name == ""
    assert not user.has_usable_password()
    identity = Identity.objects.get(did=alice.identity.did)
    assert identity.sealed_private_key is None and identity.revoked_at is not None
    assert not Actor.objects.get(did=alice.identity.did).active
    membership = type(alice).objects.get(pk=alice.pk)
    assert membership.status == "revoked" and membership.postal_address == ""
    consent = agreement.consents.get(subject__did=alice.identity.did)
    assert consent.status == "revoked" and consent.purges.exists()

    version.refresh_from_db()
    distribution.refresh_from_db()
    assert bytes(version.wrapped_key) != old_key
    assert distribution.sha256 != old_sha and distribution.record_count == 4
    content = b"".join(plaintext(distribution)).decode()
    assert alice.identity.did not in content and bob.identity.did in content
    assert not DistributionSubject.objects.filter(did=alice.identity.did).exists()
    assert not DataSubject.objects.filter(identity=identity).exists()
    assert not old_path.exists()

    out, err = ledger_verify_all()
    assert err == ""
    assert f"OK {personal_dataset.city.chain.slug}" in out and "OK network" in out


def test_after_erasure_deliveries_leave_my_records_out(agreement, consumer, residents):
    account_erase(user=residents[0].user)
    body, _ = download(agreement, consumer)
    assert residents[0].identity.did.encode() not in body
    assert residents[1].identity.did.encode() in body


def test_the_owner_of_a_provider_hands_it_over_first(provider, consumer):
    with pytest.raises(CannotErase):
        account_erase(user=consumer)
