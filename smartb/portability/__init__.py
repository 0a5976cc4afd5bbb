"""A city can leave: `manage.py city_export --city SLUG -o DIR` and `manage.py city_import DIR`.

An export directory holds:

- `manifest.json`: format, city slug, creation time, the chain's latest checkpoint (C2SP
  text, signatures included) with its tree size and root, the sections in import order, and
  for every file its SHA-256 and row count;
- `ledger/<chain>.json`: the city's chain in the `ledger.export` bundle format, checkable with
  `python -m ledger.verify_bundle` (no Django, no database);
- one `<section>.json` per section: `{"format", "section", "version", "city", "tables":
  {table: [row, ...]}}`, rows in the origin's creation order, naming other rows by public id,
  slug, DID or ledger index, never by database key.

Sections shipped here: `ledger` (chain head, actors' status, the network-chain transactions
about the city as verifiable evidence: see `ledger_section`), `identity` (accounts' username,
e-mail and public id, public DIDs, credentials: see `identity_section`) and `governance`
(city, colleges, memberships, rules, proposals, budget projects, electorates, ballots,
comments, treasury accounts, movements, postings). The app store's section
(`marketplace.portability`) is registered by `MarketplaceConfig.ready`. Members' private keys
never leave: custodial keys stay sealed on the origin platform, and every imported identity
holds its public key only.

The city's own key is handed over (`handover`): `city_export --handover-passphrase-file`
appends a `governance.city.handover` transaction, signed by the city's DID and naming a fresh
successor DID, seals it into the export, writes the successor key as `city-key.pem` (PKCS#8
encrypted with the passphrase; the manifest's `handover` names it) and marks the city
independent on the origin; `city_import --city-key-file --city-key-passphrase-file` checks the
key against the chain's last handover and installs it as the city's custodial DID. Without
it, the imported city is read-only: nothing that signs as the city works.

The import refuses, writing nothing, unless every file matches its digest, the bundle
verifies (signatures, hashes, Merkle roots, block links, validator and checkpoint signatures)
against validators this instance trusts and ends on the manifest's checkpoint, and each
section's checks pass; it then writes every row in one transaction and runs the full chain
integrity check before committing.

Adding a section (e.g. the app store's services, versions, audits and deployments): from the
app's `AppConfig.ready`, one call::

    from smartb.portability import register_section

    register_section(
        "marketplace",
        exporter=export_marketplace,  # (ctx: ExportContext) -> {table: [dict, ...]}
        importer=import_marketplace,  # (ctx: ImportContext, tables) -> None
        checker=check_marketplace,  # optional, runs before anything is written
        after=("identity", "governance"),  # sections whose rows it refers to
    )

The exporter reads `ctx.city` and `ctx.chain`, keeps ledger entries as
`ctx.entry_index(chain_id=..., index=...)`, and asks for what it names but does not own:
`ctx.include_account(user_pk)` (a provider's owner), `ctx.include_credential(pk)`,
`ctx.include_network_entry(tx_pk)` (an audit signed on the network chain: it leaves as
evidence with its inclusion proof, and the row keeps its `tx_hash`; it cannot be a foreign key
on the new instance, whose network chain is another log). The importer finds earlier rows
with `ctx.ref("identity.user", public_id)`, `ctx.ref("identity.identity", did)`,
`ctx.ref("governance.proposal", public_id)`, `ctx.ref("governance.membership", public_id)`,
`ctx.ref("governance.city", slug)`, ledger entries with `ctx.entry_pk(index)` and the signed
transaction itself with `ctx.transaction(index)`; it writes with `rows.insert_rows` (keeps
`auto_now` timestamps) and raises `ImportRefused` for anything it cannot take.
"""

from .errors import ExportRefused, ImportRefused, PortabilityError
from .registry import ExportContext, ImportContext, Section, register_section

__all__ = [
    "ExportContext",
    "ExportRefused",
    "ImportContext",
    "ImportRefused",
    "PortabilityError",
    "Section",
    "register_section",
]
