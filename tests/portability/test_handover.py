"""The city takes its key with it: `city_export --handover-passphrase-file` hands the city's
DID over to a fresh successor key on the city's chain, and `city_import --city-key-file
--city-key-passphrase-file` installs that key, so the imported city signs again."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from django.core.management.base import CommandError

from governance.models import City, Membership, Proposal
from governance.services import membership_approve, proposal_execute, vote_cast
from identity import crypto, vc
from identity.errors import NoCustodialKey
from identity.models import Custody, Identity
from identity.services import identity_create_custodial
from ledger.didkey import did_from_public_key
from ledger.errors import UnknownActor
from ledger.integrity import verify_chain
from ledger.models import Actor, Chain, Transaction
from ledger.services import chain_seal
from ledger.verify_bundle import main as verify_bundle_main
from smartb.portability import ImportRefused
from smartb.portability.handover import (
    KEY_FILE,
    KIND_CITY_HANDOVER,
    KIND_CITY_KEY_INSTALL,
    city_key_open,
    city_key_read,
)
from smartb.portability.services import city_export, city_import
from tests.conftest import require_postgres
from tests.factories import UserFactory
from tests.governance.helpers import POSTAL_CODES, close, draft, open_vote, request

from .helpers import export_dir, row_counts, run, wipe_database

PASSPHRASE = "lavoir-du-centre-2026"
# Another instance seals custodial keys under its own key-encryption key.
OTHER_KEK = base64.b64encode(bytes(range(100, 132))).decode()


def hand_over(city: City, tmp_path, passphrase: str = PASSPHRASE):
    directory = export_dir(tmp_path)
    manifest = city_export(city=city, directory=directory, handover_passphrase=passphrase)
    return directory, manifest


def passphrase_file(tmp_path, text: str = PASSPHRASE):
    path = tmp_path / "passphrase.txt"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def open_project(city: City) -> Proposal:
    """An open fund_project vote every member voted yes on: it passes at its close."""
    members = list(
        Membership.objects.filter(city=city, status="approved").select_related("college")
    )
    provider = next(m for m in members if m.college.slug == "providers")
    project = open_vote(
        draft(members[0], "fund_project", amount_cents=30_000, recipient=provider.identity.did)
    )
    for member in members:
        vote_cast(proposal=project, member=member, choice="yes")
    return project


def rekey(user):
    """A member whose custodial key stayed at the origin takes a new DID here."""
    Identity.objects.filter(user=user).update(is_primary=False)
    return identity_create_custodial(user=user, primary=True)


def test_the_export_hands_the_city_key_over_on_its_chain(city, tmp_path, capsys):
    old_did = city.identity.did
    directory, manifest = hand_over(city, tmp_path)

    key_path = directory / KEY_FILE
    pem = key_path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = city_key_open(pem, passphrase=PASSPHRASE)
    successor = did_from_public_key(crypto.public_key_raw(key))
    handover = Transaction.objects.get(chain=city.chain, kind=KIND_CITY_HANDOVER)
    assert handover.actor == old_did
    assert handover.payload == {
        "city": "bourg",
        "predecessor": old_did,
        "successor": successor,
        "public_key": crypto.public_key_raw(key).hex(),
    }
    chain = Chain.objects.get(pk=city.chain_id)
    assert handover.index == chain.size - 1 == chain.sealed_size - 1  # sealed, then exported
    assert manifest["handover"]["successor"] == successor
    assert manifest["handover"]["tx_hash"] == handover.tx_hash
    bundle = json.loads((directory / "ledger" / "bourg.json").read_text(encoding="utf-8"))
    assert bundle["transactions"][-1]["tx_hash"] == handover.tx_hash
    assert verify_bundle_main([str(directory / "ledger" / "bourg.json")]) == 0
    assert City.objects.get(pk=city.pk).independent_at is not None  # the origin says it left
    assert successor not in pem.decode()


def test_after_the_import_with_its_key_the_city_closes_and_executes_an_open_vote(
    city, tmp_path, settings
):
    project = open_project(city)
    old_did = city.identity.did
    directory, manifest = hand_over(city, tmp_path)
    wipe_database()
    settings.SMARTB_KEY_ENCRYPTION_KEY = OTHER_KEK
    key = city_key_open((directory / KEY_FILE).read_bytes(), passphrase=PASSPHRASE)

    report = city_import(directory=directory, city_key=key)

    imported = City.objects.select_related("identity").get(slug="bourg")
    successor = manifest["handover"]["successor"]
    assert report.can_sign and report.city_did == successor == imported.identity.did
    assert imported.identity.custody == Custody.CUSTODIAL
    assert imported.identity.private_key().private_bytes_raw() == key.private_bytes_raw()
    old = Identity.objects.get(did=old_did)
    assert old.revoked_at is not None and not old.is_primary
    assert not Actor.objects.get(did=old_did).active
    install = Transaction.objects.get(chain__slug="bourg", kind=KIND_CITY_KEY_INSTALL)
    assert install.actor == successor
    assert install.payload["handover"] == manifest["handover"]["tx_hash"]

    proposal = close(Proposal.objects.get(public_id=project.public_id))
    assert proposal.status == "accepted", proposal.tally
    proposal = proposal_execute(proposal=proposal)
    assert proposal.status == "executed", proposal.failure_reason
    signed = Transaction.objects.filter(chain__slug="bourg", index__gt=install.index)
    assert {(tx.kind, tx.actor) for tx in signed} == {
        ("governance.proposal.close", successor),
        ("governance.treasury.move", successor),
        ("governance.proposal.execute", successor),
    }
    chain_seal(chain="bourg")
    assert verify_chain(Chain.objects.get(slug="bourg")).failure is None
    assert "OK bourg" in run("ledger_verify", "--chain", "bourg")


def test_the_imported_city_approves_a_new_member(city, tmp_path):
    directory, _manifest = hand_over(city, tmp_path)
    wipe_database()
    city_import(
        directory=directory,
        city_key=city_key_open((directory / KEY_FILE).read_bytes(), passphrase=PASSPHRASE),
    )
    imported = City.objects.select_related("identity").get(slug="bourg")
    staff = (
        Membership.objects.filter(city=imported, status="approved", college__kind="municipality")
        .select_related("user")
        .first()
        .user
    )
    rekey(staff)

    pending = request(imported, "residents", user=UserFactory())
    approved = membership_approve(membership=pending, by=staff)

    assert approved.status == "approved"
    credential = approved.credential
    assert credential.issuer == imported.identity
    assert vc.proof_verify(credential.document).verified
    assert approved.postal_code == POSTAL_CODES[0]
    chain_seal(chain="bourg")
    assert verify_chain(Chain.objects.get(slug="bourg")).failure is None


def test_without_its_key_the_city_is_read_only_and_the_key_installs_later(city, tmp_path):
    project = open_project(city)
    directory, manifest = hand_over(city, tmp_path)
    wipe_database()

    out = run("city_import", str(directory))

    assert "CANNOT SIGN" in out and "--city-key-file" in out
    proposal = Proposal.objects.get(public_id=project.public_id)
    with pytest.raises(NoCustodialKey):
        close(proposal)
    assert Proposal.objects.get(pk=proposal.pk).status == "open"

    out = run(
        "city_import",
        str(directory),
        "--city-key-file",
        str(directory / KEY_FILE),
        "--city-key-passphrase-file",
        str(passphrase_file(tmp_path)),
    )

    assert f"the city signs as {manifest['handover']['successor']}" in out
    assert close(proposal).status == "accepted"
    with pytest.raises(CommandError, match="signs with its own key"):
        run(
            "city_import",
            str(directory),
            "--city-key-file",
            str(directory / KEY_FILE),
            "--city-key-passphrase-file",
            str(passphrase_file(tmp_path)),
        )


def test_an_export_without_handover_says_its_origin_handed_no_key_over(city, tmp_path):
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    wipe_database()

    out = run("city_import", str(directory))

    assert "CANNOT SIGN" in out and "--handover-passphrase-file" in out
    assert not (directory / KEY_FILE).exists()


def test_a_wrong_passphrase_is_refused_and_nothing_is_written(city, tmp_path):
    directory, _manifest = hand_over(city, tmp_path)
    wipe_database()
    counts = row_counts()

    with pytest.raises(CommandError, match="does not open with this passphrase"):
        run(
            "city_import",
            str(directory),
            "--city-key-file",
            str(directory / KEY_FILE),
            "--city-key-passphrase-file",
            str(passphrase_file(tmp_path, "pas-la-bonne-phrase")),
        )
    assert row_counts() == counts


def test_a_key_that_is_not_the_successor_is_refused_and_nothing_is_written(city, tmp_path):
    directory, _manifest = hand_over(city, tmp_path)
    wipe_database()
    stranger = crypto.generate_private_key()
    (tmp_path / "other.pem").write_bytes(crypto.export_pkcs8_pem(stranger, password=PASSPHRASE))
    counts = row_counts()

    with pytest.raises(ImportRefused, match="not the successor"):
        city_import(
            directory=directory,
            city_key=city_key_read(tmp_path / "other.pem", passphrase_file(tmp_path)),
        )
    assert row_counts() == counts
    assert not City.objects.exists()


def test_a_key_for_an_export_without_handover_is_refused(city, tmp_path):
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    wipe_database()
    counts = row_counts()

    with pytest.raises(ImportRefused, match="holds no handover"):
        city_import(directory=directory, city_key=crypto.generate_private_key())
    assert row_counts() == counts


def test_a_key_in_clear_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization

    pem = crypto.generate_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    from django.utils import translation

    with translation.override("en"), pytest.raises(ImportRefused, match="not encrypted"):
        city_key_open(pem, passphrase=PASSPHRASE)


def test_the_origin_does_not_take_the_key_back(city, tmp_path):
    directory, _manifest = hand_over(city, tmp_path)
    key = city_key_open((directory / KEY_FILE).read_bytes(), passphrase=PASSPHRASE)
    old_did = city.identity.did

    with pytest.raises(ImportRefused, match="signs with its own key"):
        city_import(directory=directory, city_key=key)
    assert City.objects.get(pk=city.pk).identity.did == old_did


def test_a_short_passphrase_is_refused_before_any_handover(city, tmp_path):
    size = Chain.objects.get(pk=city.chain_id).size

    with pytest.raises(CommandError, match="at least 12 characters"):
        run(
            "city_export",
            "--city",
            "bourg",
            "-o",
            str(export_dir(tmp_path)),
            "--handover-passphrase-file",
            str(passphrase_file(tmp_path, "court")),
        )
    assert Chain.objects.get(pk=city.chain_id).size == size
    assert not export_dir(tmp_path).exists()


def test_an_export_that_fails_leaves_no_handover_behind(city, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("smartb.portability.services.write_bundle", broken)
    with pytest.raises(OSError):
        hand_over(city, tmp_path)

    assert not Transaction.objects.filter(kind=KIND_CITY_HANDOVER).exists()
    assert City.objects.get(pk=city.pk).independent_at is None
    assert not export_dir(tmp_path).exists()


def test_the_old_city_did_signs_nothing_on_the_new_instance(city, tmp_path):
    directory, _manifest = hand_over(city, tmp_path)
    old_key = city.identity.private_key()  # what the origin still holds
    wipe_database()
    city_import(
        directory=directory,
        city_key=city_key_open((directory / KEY_FILE).read_bytes(), passphrase=PASSPHRASE),
    )
    from ledger.services import ledger_append
    from ledger.signing import KeySigner

    with pytest.raises(UnknownActor):
        ledger_append(
            chain="bourg",
            actor=KeySigner(old_key),
            kind="governance.proposal.close",
            payload={"proposal": "x"},
        )


def test_the_handover_round_trip_holds_on_postgresql(city, tmp_path):
    require_postgres()
    project = open_project(city)
    directory, _manifest = hand_over(city, tmp_path)
    wipe_database()
    out = run(
        "city_import",
        str(directory),
        "--city-key-file",
        str(directory / KEY_FILE),
        "--city-key-passphrase-file",
        str(passphrase_file(tmp_path)),
    )

    assert "the city's key is installed" in out
    proposal = proposal_execute(proposal=close(Proposal.objects.get(public_id=project.public_id)))
    assert proposal.status == "executed", proposal.failure_reason
    chain_seal(chain="bourg")
    assert "OK bourg" in run("ledger_verify", "--chain", "bourg")
