"""`city_export` and `city_import`: a city's directory out of one instance, into another."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City
from identity.models import Custody
from ledger.checkpoint import checkpoint_text, note_body
from ledger.didkey import InvalidDid, public_key_from_did
from ledger.export import BUNDLE_FORMAT, bundle_successor_signatures, write_bundle
from ledger.integrity import verify_chain
from ledger.models import NETWORK_CHAIN_SLUG, Chain
from ledger.selectors import block_checkpoint, block_latest
from ledger.services import chain_seal
from ledger.signing import checkpoint_origin, trusted_validators
from ledger.validators import chain_validators_rebuild
from ledger.verification import VerificationFailed
from ledger.verify_bundle import verify_bundle

from .errors import ExportRefused, ImportRefused
from .handover import (
    KEY_FILE,
    city_key_install,
    handover_check,
    handover_last,
    handover_record,
    key_file_write,
)
from .registry import ExportContext, ImportContext, Section, section_get, sections_in_order
from .rows import dump_json, sha256_file, stamp

EXPORT_FORMAT = "smartb-city-export/1"
SECTION_FORMAT = "smartb-city-section/1"
MANIFEST = "manifest.json"


def bundle_path(chain_slug: str) -> str:
    return f"ledger/{chain_slug}.json"


def city_export(
    *, city: City, directory: Path, seal: bool = True, handover_passphrase: str | None = None
) -> dict:
    """Write everything `city` needs to run on its own into `directory` (new or empty);
    returns the manifest.

    With `seal`, pending transactions of the city's chain (and of the network chain, so the
    network evidence carries inclusion proofs) are sealed first, so the checkpoint covers the
    whole log. The city's chain head stays locked while the files are written: no vote or
    movement lands between the ledger bundle and the rows that refer to it. Members' private
    keys never leave: custodial keys stay sealed on this platform.

    With `handover_passphrase`, the city takes its own key with it (see `handover`): a
    `governance.city.handover` transaction is appended and sealed before the export, the city
    is marked independent here, and its successor key is written to `city-key.pem`,
    encrypted with the passphrase. If the export fails, no handover happened.
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportRefused(_("The export directory exists and is not empty."))
    if handover_passphrase is not None and not seal:
        raise ExportRefused(
            _("A handover is sealed into the export: it cannot be made without sealing.")
        )
    if seal:
        # Before the city's lock, in its own short transaction: the network serves every city.
        chain_seal(chain=NETWORK_CHAIN_SLUG)
    with transaction.atomic():
        return _export_locked(city, directory, seal=seal, handover_passphrase=handover_passphrase)


def _export_locked(
    city: City, directory: Path, *, seal: bool, handover_passphrase: str | None
) -> dict:
    chain = Chain.objects.select_for_update().get(pk=city.chain_id)
    handover = key_pem = None
    if handover_passphrase is not None:
        handover, key_pem = handover_record(city=city, chain=chain, passphrase=handover_passphrase)
    if seal:
        chain_seal(chain=chain)
        chain.refresh_from_db()
    block = block_latest(chain=chain)
    if block is None:
        raise ExportRefused(_("The city's chain has no sealed block yet: seal it first."))
    ctx = ExportContext(city=city, chain=chain)
    sections = sections_in_order()
    tables = {}
    # Reverse import order: a section asks those it depends on to carry its accounts first.
    for section in reversed(sections):
        tables[section.name] = section.exporter(ctx)

    partial = directory.with_name(directory.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "ledger").mkdir(parents=True)
    files: dict[str, dict] = {}
    try:
        if key_pem is not None:
            # Not among `files`: it may travel apart from the export; the import checks it
            # against the handover on the chain, which is what vouches for it.
            key_file_write(partial / KEY_FILE, key_pem)
        bundle_name = bundle_path(chain.slug)
        with (partial / bundle_name).open("w", encoding="utf-8") as handle:
            counts = write_bundle(chain, handle)
        files[bundle_name] = {
            "sha256": sha256_file(partial / bundle_name),
            "rows": counts["transactions"] + counts["blocks"],
        }
        for section in sections:
            document = {
                "format": SECTION_FORMAT,
                "section": section.name,
                "version": section.version,
                "city": city.slug,
                "tables": tables[section.name],
            }
            (partial / section.filename).write_bytes(dump_json(document))
            files[section.filename] = {
                "sha256": sha256_file(partial / section.filename),
                "rows": sum(len(rows) for rows in tables[section.name].values()),
            }
        manifest = {
            "format": EXPORT_FORMAT,
            "city": city.slug,
            "created_at": stamp(timezone.now()),
            "chain": {
                "slug": chain.slug,
                "origin": checkpoint_origin(chain.slug),
                "size": chain.size,
                "tree_size": block.tree_size,
                "root": block.root,
                "height": block.height,
                "block_hash": block.block_hash,
                "checkpoint": block_checkpoint(block=block, chain_slug=chain.slug),
            },
            "sections": [
                {"name": s.name, "file": s.filename, "version": s.version} for s in sections
            ],
            "files": files,
            "private_keys": (
                "none: custodial keys stay sealed on the origin platform"
                if handover is None
                else f"the city's successor key only, in {KEY_FILE} encrypted with the "
                "handover passphrase; members' custodial keys stay sealed on the origin platform"
            ),
            "handover": handover.as_manifest() if handover is not None else None,
        }
        (partial / MANIFEST).write_bytes(dump_json(manifest))
        if directory.exists():
            directory.rmdir()
        partial.rename(directory)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


@dataclass
class ImportReport:
    city: str
    transactions: int
    blocks: int
    checkpoint: str
    rows: dict[str, int] = field(default_factory=dict)
    public_key_only: int = 0  # identities custodial at the origin: their keys stayed there
    city_did: str = ""  # the DID the city signs with here
    can_sign: bool = False  # the city's key is installed here
    handover: str | None = None  # the successor DID named by the chain's last handover
    key_only: bool = False  # the city was imported before; this run installed its key


def city_import(
    *,
    directory: Path,
    validators: list[str] | None = None,
    city_key: Ed25519PrivateKey | None = None,
) -> ImportReport:
    """Build the city exported in `directory` into this instance, or write nothing.

    Before writing: the manifest's digests, the ledger bundle (signatures, hashes, Merkle
    roots, block links, validator signatures, checkpoint) against `validators` (validator
    DIDs; default: the validators this instance trusts), the network evidence, and each
    section's own checks. Then every row is written in one database transaction, with the
    ledger's indexes, hashes and tiles, and the imported chain must pass the full integrity
    check (`ledger_verify`) before that transaction commits.

    Without `city_key` the city is read-only here: its DID holds a public key only, so
    nothing that signs as the city (closing and executing votes, approvals, treasury moves)
    works until its key is installed. `city_key` is the successor key the origin handed
    over (`handover`): it must be the one named by the chain's last handover (checked
    before writing), and it is installed in the import's transaction. Given for a city
    imported earlier without it, it installs the key only.
    """
    directory = Path(directory)
    manifest = _read_manifest(directory)
    city_slug, chain_slug = manifest["city"], manifest["chain"]["slug"]
    if city_key is not None:
        existing = City.objects.filter(slug=city_slug, chain__slug=chain_slug).first()
        if existing is not None:
            return _install_key_only(existing, city_key)
    _refuse_existing(city_slug, chain_slug)
    trusted = _trusted(validators)
    bundle = _read_json(directory, bundle_path(chain_slug))
    _verify_ledger(bundle, manifest, trusted)
    ctx = ImportContext(directory=directory, manifest=manifest, bundle=bundle, validators=trusted)
    sections = _sections_of(manifest)
    for section in sections:
        document = _read_json(directory, section.filename)
        if (
            not isinstance(document, dict)
            or document.get("format") != SECTION_FORMAT
            or document.get("section") != section.name
            or document.get("city") != city_slug
            or not isinstance(document.get("tables"), dict)
            or not all(isinstance(rows, list) for rows in document["tables"].values())
        ):
            raise ImportRefused(
                _("The file %(file)s is not this city's %(section)s section.")
                % {"file": section.filename, "section": section.name}
            )
        ctx.tables[section.name] = document["tables"]
    for section in sections:
        if section.checker is not None:
            _guarded(section.checker, ctx, ctx.tables[section.name])
    handover = handover_last(bundle.get("transactions", []))
    if city_key is not None:
        handover_check(
            handover,
            city_slug=city_slug,
            city_did=_city_did(ctx),
            private_key=city_key,
        )
    try:
        with transaction.atomic():
            _refuse_existing(city_slug, chain_slug)
            for section in sections:
                _guarded(section.importer, ctx, ctx.tables[section.name])
            chain_validators_rebuild(
                chain=ctx.chain,
                successor_signatures=bundle_successor_signatures(bundle.get("transactions", [])),
            )
            report = verify_chain(ctx.chain, validators=trusted)
            if report.failure is not None:
                raise ImportRefused(
                    _("The imported chain does not verify: %(failure)s")
                    % {"failure": report.failure}
                )
            latest = block_latest(chain=ctx.chain)
            checkpoint = block_checkpoint(block=latest, chain_slug=chain_slug)
            if checkpoint != manifest["chain"]["checkpoint"]:
                raise ImportRefused(_("The imported chain's checkpoint is not the manifest's."))
            if city_key is not None:
                city_key_install(city=ctx.city, private_key=city_key)
    except DatabaseError as error:  # e.g. a concurrent import of the same city won the race
        raise ImportRefused(
            _("The rows could not be written (%(error)s): nothing was imported.")
            % {"error": str(error)[:200]}
        ) from error
    identities = ctx.tables.get("identity", {}).get("identities", [])
    return ImportReport(
        city=city_slug,
        transactions=report.transactions,
        blocks=report.blocks,
        checkpoint=checkpoint,
        rows={
            f"{name}.{table}": len(rows)
            for name, tables in ctx.tables.items()
            for table, rows in tables.items()
        },
        public_key_only=sum(1 for row in identities if row.get("custody") == "custodial"),
        city_did=City.objects.get(pk=ctx.city.pk).identity.did,
        can_sign=city_key is not None,
        handover=handover.successor if handover is not None else None,
    )


def _city_did(ctx: ImportContext) -> str | None:
    rows = ctx.tables.get("governance", {}).get("city") or [{}]
    return rows[0].get("identity") if isinstance(rows[0], dict) else None


def _install_key_only(city: City, city_key: Ed25519PrivateKey) -> ImportReport:
    """A city imported earlier, read-only: install its handed-over key. A city that signs
    here already (its origin, or one whose key is installed) is refused."""
    if city.identity.custody == Custody.CUSTODIAL:
        raise ImportRefused(
            _("The city %(slug)s exists here already and signs with its own key.")
            % {"slug": city.slug}
        )
    try:
        identity = city_key_install(city=city, private_key=city_key)
    except DatabaseError as error:
        raise ImportRefused(
            _("The key could not be installed (%(error)s).") % {"error": str(error)[:200]}
        ) from error
    chain = Chain.objects.get(pk=city.chain_id)
    latest = block_latest(chain=chain)
    return ImportReport(
        city=city.slug,
        transactions=chain.size,
        blocks=chain.block_count,
        checkpoint=block_checkpoint(block=latest, chain_slug=chain.slug) if latest else "",
        city_did=identity.did,
        can_sign=True,
        handover=identity.did,
        key_only=True,
    )


def _guarded(step, ctx: ImportContext, tables) -> None:
    """Run a section's checker or importer; a malformed row is a refusal, never a crash."""
    try:
        step(ctx, tables)
    except ImportRefused:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportRefused(
            _("A section of the export is malformed (%(error)s).") % {"error": repr(error)[:200]}
        ) from error


def _read_manifest(directory: Path) -> dict:
    manifest = _read_json(directory, MANIFEST)
    try:
        valid = (
            manifest["format"] == EXPORT_FORMAT
            and isinstance(manifest["city"], str)
            and isinstance(manifest["chain"]["slug"], str)
            and isinstance(manifest["chain"]["checkpoint"], str)
            and isinstance(manifest["files"], dict)
            and isinstance(manifest["sections"], list)
        )
    except (KeyError, TypeError) as error:
        raise ImportRefused(
            _("%(file)s is not a city export manifest.") % {"file": MANIFEST}
        ) from error
    if not valid:
        raise ImportRefused(_("%(file)s is not a city export manifest.") % {"file": MANIFEST})
    for name, entry in manifest["files"].items():
        path = _inside(directory, name)
        if not path.is_file():
            raise ImportRefused(_("The file %(file)s is missing.") % {"file": name})
        if not isinstance(entry, dict) or sha256_file(path) != entry.get("sha256"):
            raise ImportRefused(
                _("The file %(file)s does not match its digest in the manifest: it was changed.")
                % {"file": name}
            )
    return manifest


def _inside(directory: Path, name) -> Path:
    """A file the manifest names, which must lie inside the export directory."""
    relative = PurePosixPath(name) if isinstance(name, str) else None
    if relative is None or relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ImportRefused(_("The manifest names a file outside the export."))
    return directory.joinpath(*relative.parts)


def _read_json(directory: Path, name: str):
    """A file the manifest lists (so its digest was checked), parsed."""
    path = _inside(directory, name)
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise ImportRefused(_("The file %(file)s is missing.") % {"file": name}) from error
    except (OSError, ValueError) as error:
        raise ImportRefused(_("The file %(file)s is not JSON.") % {"file": name}) from error


def _refuse_existing(city_slug: str, chain_slug: str) -> None:
    if City.objects.filter(slug=city_slug).exists():
        raise ImportRefused(
            _("A city %(slug)s exists here already: nothing was imported.") % {"slug": city_slug}
        )
    if Chain.objects.filter(slug=chain_slug).exists():
        raise ImportRefused(
            _("A chain %(slug)s exists here already: nothing was imported.") % {"slug": chain_slug}
        )


def _trusted(validators: list[str] | None) -> dict[str, str]:
    if not validators:
        return trusted_validators()
    try:
        return {did: public_key_from_did(did).hex() for did in validators}
    except InvalidDid as error:
        raise ImportRefused(
            _("A validator is not a did:key: %(error)s") % {"error": error}
        ) from error


def _sections_of(manifest: dict) -> list[Section]:
    """The manifest's sections, in this instance's import order; each must be known here."""
    named = {}
    for entry in manifest["sections"]:
        name = entry.get("name") if isinstance(entry, dict) else None
        section = section_get(name) if isinstance(name, str) else None
        if section is None:
            raise ImportRefused(
                _("The export has a section %(name)s this instance does not know.") % {"name": name}
            )
        if entry.get("file") != section.filename or section.filename not in manifest["files"]:
            raise ImportRefused(
                _("The section %(name)s has no file in the manifest.") % {"name": name}
            )
        if not isinstance(entry.get("version"), int) or entry["version"] > section.version:
            raise ImportRefused(
                _("The section %(name)s was written by a newer version.") % {"name": name}
            )
        named[name] = section
    if "ledger" not in named:
        raise ImportRefused(_("The export has no ledger section."))
    return [section for section in sections_in_order() if section.name in named]


def _verify_ledger(bundle: dict, manifest: dict, trusted: dict[str, str]) -> None:
    """The bundle verifies against the validators we trust, and ends on the manifest's
    checkpoint; its checkpoints name the origin this instance gives the chain."""
    chain = manifest["chain"]
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise ImportRefused(_("The ledger file is not a ledger bundle."))
    if bundle_path(chain["slug"]) not in manifest["files"]:
        raise ImportRefused(_("The manifest does not list the ledger bundle."))
    try:
        slug, origin = bundle["chain"]["slug"], bundle["chain"]["origin"]
    except (KeyError, TypeError) as error:
        raise ImportRefused(_("The ledger file is not a ledger bundle.")) from error
    if slug != chain["slug"]:
        raise ImportRefused(_("The ledger bundle is of another chain than the manifest's."))
    if origin != checkpoint_origin(slug):
        prefix = origin.rsplit("/", 1)[0] if isinstance(origin, str) else origin
        raise ImportRefused(
            _(
                "The chain's checkpoints name the origin %(origin)s: set SMARTB_LEDGER_ORIGIN "
                "to %(prefix)s on this instance so that they keep verifying."
            )
            % {"origin": origin, "prefix": prefix}
        )
    try:
        verify_bundle(bundle, trusted=list(trusted))
    except VerificationFailed as error:
        raise ImportRefused(
            _(
                "The ledger does not verify (%(failure)s). If a validator is named, check it "
                "is the DID the city publishes and pass it with --validator."
            )
            % {"failure": error.failure}
        ) from error
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportRefused(_("The ledger bundle is malformed.")) from error
    blocks = bundle.get("blocks") or []
    if not blocks:
        raise ImportRefused(_("The ledger bundle has no sealed block."))
    last = blocks[-1]
    body = note_body(origin, last["tree_size"], bytes.fromhex(last["root"]))
    lines = [f"\u2014 {sig['key_name']} {sig['note_signature']}\n" for sig in last["signatures"]]
    if (
        checkpoint_text(body, lines) != chain["checkpoint"]
        or last["tree_size"] != chain.get("tree_size")
        or last["root"] != chain.get("root")
        or len(bundle.get("transactions", [])) != chain.get("size")
    ):
        raise ImportRefused(_("The ledger bundle does not end on the manifest's checkpoint."))
