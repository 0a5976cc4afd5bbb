"""The city's key handover: the city that leaves takes the key of its DID with it, never in
clear.

The municipality's DID (`City.identity`) is custodial: it signs the closing and execution of
votes, membership credentials and treasury movements. An imported city holds public keys
only, so it could not sign until its key is installed. The handover:

- on the origin, `handover_record` (from `city_export --handover-passphrase-file`) generates
  a fresh Ed25519 key, the city's successor DID (did:key), and appends on the city's chain a
  `governance.city.handover` transaction signed by the city's current DID, naming the
  successor DID and its public key (DIDs and hex only). The key leaves only as
  `city-key.pem` in the export directory: PKCS#8 encrypted with the passphrase
  (`identity.crypto.export_pkcs8_pem`); the origin keeps no copy of it. The origin records
  the city as independent (its pages say so). It does not deactivate the old city DID: the
  close of due votes runs for every city in one task, which would stop at the left city's
  first open vote; a transaction the old DID signs after the handover is visible on the
  chain as one signed after the city's key was handed over.
- on the new instance, `city_key_read` decrypts the key, `handover_check` checks that it is
  the successor named by the chain's last handover, and `city_key_install` registers it as a
  ledger actor, seals it as the city's custodial identity (under this instance's
  key-encryption key), points the City at it, retires the previous city DID here, and signs
  `governance.city.key_install` with it on the city's chain: the successor's first
  transaction, public proof that the key arrived.

Only the last handover on a chain counts: exporting again with a new passphrase hands over
a new successor, and the earlier key file no longer installs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import City
from identity import crypto
from identity.models import Custody, Identity
from identity.services import identity_create_custodial
from ledger.didkey import did_from_public_key
from ledger.models import Chain, Transaction
from ledger.services import actor_deactivate, ledger_append

from .errors import ExportRefused, ImportRefused, PortabilityError

KIND_CITY_HANDOVER = "governance.city.handover"
KIND_CITY_KEY_INSTALL = "governance.city.key_install"
KEY_FILE = "city-key.pem"
MIN_PASSPHRASE_LENGTH = 12


@dataclass(frozen=True)
class Handover:
    """A `governance.city.handover` transaction, as the chain holds it."""

    index: int
    tx_hash: str
    city: str
    predecessor: str  # the city's DID that signed it
    successor: str  # the DID whose key the city takes with it
    public_key: str  # hex of the successor's Ed25519 public key

    @classmethod
    def of(cls, tx: dict | Transaction) -> Handover:
        fields = (
            tx
            if isinstance(tx, dict)
            else {
                "index": tx.index,
                "tx_hash": tx.tx_hash,
                "actor": tx.actor,
                "payload": tx.payload,
            }
        )
        payload = fields["payload"] if isinstance(fields["payload"], dict) else {}
        return cls(
            index=fields["index"],
            tx_hash=fields["tx_hash"],
            city=payload.get("city"),
            predecessor=fields["actor"],
            successor=payload.get("successor"),
            public_key=payload.get("public_key"),
        )

    def as_manifest(self) -> dict:
        return {
            "index": self.index,
            "tx_hash": self.tx_hash,
            "predecessor": self.predecessor,
            "successor": self.successor,
            "public_key": self.public_key,
            "key_file": KEY_FILE,
            "key_format": "PKCS#8 PEM, encrypted with the handover passphrase",
        }


def handover_payload(*, city: City, predecessor: str, successor: str, public_key: bytes) -> dict:
    return {
        "city": city.slug,
        "predecessor": predecessor,
        "successor": successor,
        "public_key": public_key.hex(),
    }


def handover_record(*, city: City, chain: Chain, passphrase: str) -> tuple[Handover, bytes]:
    """Append the handover of `city`'s key to its (locked) `chain`, signed by the city's
    current DID, and mark the city independent here; returns the handover and the successor
    key as PKCS#8 PEM encrypted with `passphrase`. Runs inside the export's transaction: if
    the export fails, no handover happened."""
    passphrase_check(passphrase, refused=ExportRefused)
    identity = Identity.objects.get(pk=city.identity_id)
    if identity.custody != Custody.CUSTODIAL or identity.revoked_at is not None:
        raise ExportRefused(
            _(
                "The city's DID has no key on this platform: install the city's key here "
                "before handing it over."
            )
        )
    key = crypto.generate_private_key()
    public = crypto.public_key_raw(key)
    entry = ledger_append(
        chain=chain,
        actor=identity,
        kind=KIND_CITY_HANDOVER,
        payload=handover_payload(
            city=city,
            predecessor=identity.did,
            successor=did_from_public_key(public),
            public_key=public,
        ),
    )
    if City.objects.filter(pk=city.pk, independent_at__isnull=True).update(
        independent_at=entry.created_at
    ):
        city.independent_at = entry.created_at
    return Handover.of(entry), crypto.export_pkcs8_pem(key, password=passphrase)


def key_file_write(path: Path, pem: bytes) -> None:
    """Write the encrypted key readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def passphrase_check(passphrase: str, *, refused: type[PortabilityError]) -> None:
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise refused(
            _("The passphrase of the city's key has at least %(n)s characters.")
            % {"n": MIN_PASSPHRASE_LENGTH}
        )


def passphrase_read(path: Path, *, refused: type[PortabilityError] = ImportRefused) -> str:
    """The passphrase in the file `path`: its first line, without the line end."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise refused(_("The passphrase file %(file)s cannot be read.") % {"file": path}) from error
    passphrase = text.splitlines()[0] if text else ""
    passphrase_check(passphrase, refused=refused)
    return passphrase


def city_key_open(pem: bytes, *, passphrase: str) -> Ed25519PrivateKey:
    """The Ed25519 key in an encrypted PKCS#8 PEM, or a refusal saying why not."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase.encode("utf-8"))
    except TypeError as error:  # a key in clear: the handover never writes one
        raise ImportRefused(
            _("The city's key file is not encrypted: it is not a key handed over by an export.")
        ) from error
    except ValueError as error:
        raise ImportRefused(
            _(
                "The city's key file does not open with this passphrase (or it is not an "
                "encrypted PKCS#8 PEM key): nothing was imported."
            )
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImportRefused(_("The city's key file does not hold an Ed25519 key."))
    return key


def city_key_read(key_path: Path, passphrase_path: Path) -> Ed25519PrivateKey:
    """The successor key from the files `city_import` is given."""
    passphrase = passphrase_read(passphrase_path)
    try:
        pem = Path(key_path).read_bytes()
    except OSError as error:
        raise ImportRefused(
            _("The city's key file %(file)s cannot be read.") % {"file": key_path}
        ) from error
    return city_key_open(pem, passphrase=passphrase)


def handover_last(transactions) -> Handover | None:
    """The last handover among `transactions` (bundle dicts, in index order)."""
    last = None
    for tx in transactions:
        if tx.get("kind") == KIND_CITY_HANDOVER:
            last = tx
    return None if last is None else Handover.of(last)


def handover_check(
    handover: Handover | None, *, city_slug: str, city_did: str, private_key: Ed25519PrivateKey
) -> Handover:
    """`private_key` is the successor named by the chain's last handover, signed by the
    city's DID for this city; refuses otherwise (nothing is written)."""
    if handover is None:
        raise ImportRefused(
            _(
                "The city's chain holds no handover of its key: ask the origin for an export "
                "made with --handover-passphrase-file."
            )
        )
    public = crypto.public_key_raw(private_key)
    if handover.city != city_slug or handover.predecessor != city_did:
        raise ImportRefused(
            _(
                "The last handover on the chain (transaction %(index)s) was not signed by "
                "this city's DID: nothing was imported."
            )
            % {"index": handover.index}
        )
    if handover.successor != did_from_public_key(public) or handover.public_key != public.hex():
        raise ImportRefused(
            _(
                "This key is not the successor named by the last handover on the chain "
                "(transaction %(index)s): nothing was imported."
            )
            % {"index": handover.index}
        )
    if Identity.objects.filter(did=handover.successor).exists():
        raise ImportRefused(_("The city's successor DID is registered here already."))
    return handover


@transaction.atomic
def city_key_install(*, city: City, private_key: Ed25519PrivateKey) -> Identity:
    """Install the key handed over to `city` (see the module docstring): the city signs
    with it from now on. The key must be the successor named by the last handover on the
    city's chain, signed by the city's current DID."""
    city = City.objects.select_for_update().select_related("identity", "chain").get(pk=city.pk)
    predecessor = city.identity
    if predecessor.did == did_from_public_key(crypto.public_key_raw(private_key)):
        raise ImportRefused(_("The city already signs with this key here."))
    entry = (
        Transaction.objects.filter(chain=city.chain, kind=KIND_CITY_HANDOVER)
        .order_by("-index")
        .first()
    )
    handover = handover_check(
        None if entry is None else Handover.of(entry),
        city_slug=city.slug,
        city_did=predecessor.did,
        private_key=private_key,
    )
    # Retired here: the handover on the chain says the city signs with its successor now.
    predecessor.is_primary = False
    predecessor.revoked_at = entry.created_at
    predecessor.save(update_fields=["is_primary", "revoked_at"])
    actor_deactivate(did=predecessor.did)
    identity = identity_create_custodial(
        user=predecessor.user, primary=True, private_key=private_key
    )
    city.identity = identity
    city.save(update_fields=["identity"])
    ledger_append(
        chain=city.chain,
        actor=identity,
        kind=KIND_CITY_KEY_INSTALL,
        payload={"city": city.slug, "did": identity.did, "handover": handover.tx_hash},
    )
    return identity
