"""The impact section of a city export (`smartb.portability`): what residents hold leaves
with the city.

Tables, each row naming others by public id, DID, code or ledger index (never a database
key):

- `curators` (by membership), `claim_batches`, `claims` (with their measured values),
  `evidence` (uploaded files inline, base64, with their size and SHA-256; datasets by id
  and digest), `verifications` (the curator's credential by public id: it leaves through
  the identity section, which checks its signature);
- `portfolios`, `serial_counters`, `batches`, `holdings`, `transfers`, `retirements`,
  `sell_offers` (their escrow), `redemptions`, `redemption_rates`, `payables`;
- the market and the community: `purchases`, `forward_orders` and `forward_fills`,
  `merchant_offers` and `merchant_redemptions`, `projects` and `contributions`,
  `participation_calls` and `participations`.

Each table is declared once in `tables.py` (its rows, columns, required columns, the ledger
kind that signs it, how a row is written back); `export.py` and `load.py` are the loops
that run those declarations, `check.py` (with `community.py` and `holdings.py`) the checks
that run before anything is written.

Methodologies and token classes are the network's catalogue: a claim names its methodology
by code, version and definition digest (and keeps the origin's public id as
`methodology_ref`, which the claim's transaction signed), as `impact.simulation.portability`
does; an unknown methodology, or one with another definition here, refuses the import.

The check refuses the import when a row is not what its ledger transaction signed (every
payload is recomputed from the rows: claims with their parameters digest and the quantity
the methodology gives, a service's batch with the digest of its items, evidence with the
SHA-256 of the file, verifications with their credential's digest, batches, transfers,
retirements, offers, redemptions, payables, and the market and community rows with the
transfers, payables and treasury movements that carried their tokens and money), when a
transaction of these kinds has no row, when serial ranges overlap, or when the holdings are
not what the ledger leaves: the token transactions are replayed in ledger order, serial range
by serial range, and each batch's holdings must partition its serials exactly as the replay
says.

Evidence files travel inside `impact.json` (base64), not as files beside it: a section
writes tables only, and the manifest's digest of `impact.json` then covers them, besides the
per-file SHA-256 the ledger signed (checked on import). A file is at most 5 MB
(`MAX_FILE_BYTES`); a city with thousands of them makes a large `impact.json`, read into
memory on import.

Registered from `ImpactConfig.ready`, after the ledger, identity and governance sections:
the app owns its section, and the framework names no app.
"""

from __future__ import annotations

from .check import check_impact
from .export import export_impact
from .load import import_impact
from .tables import ONE_ROW_PER_TX, TABLES

SECTION = "impact"

# The columns a row of each table must carry (table -> column names).
REQUIRED = {table.name: table.required for table in TABLES}

__all__ = [
    "ONE_ROW_PER_TX",
    "REQUIRED",
    "SECTION",
    "TABLES",
    "check_impact",
    "export_impact",
    "import_impact",
]
