"""The matrix's rows of the network: the simulation's pages, the ledger's explorer and API
(with the validators' endpoints), the witnesses' and the cooperative's pages and APIs, and
the profile pages under /me/ with the identity API. Same columns and helpers as `matrix`
(its module docstring says how to read a row); `matrix.ROWS` takes these lists in.

The ledger's, the witnesses' and the cooperative's reads are public (DIDs, roots, digests
and share counts only): every persona gets them, the anonymous visitor included, and the
ledger's API takes no token at all, so a validator's signature is judged by its DID alone.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from identity.crypto import public_key_raw
from ledger.canonical import canonical_json
from ledger.didkey import did_from_public_key
from ledger.quorum import ROTATE_KIND
from ledger.timefmt import format_timestamp
from ledger.validators import rotation_successor_statement

from .matrix import CITY, MISSING, NONE, Row, api, page, ref

SCENARIO = {**CITY, "public_id": "scenario.public_id"}  # the staff's
FOREIGN_SCENARIO = {**CITY, "public_id": "foreign_scenario.public_id"}  # annecy's, under bourg
BLOCK = {**CITY, "height": "first_block"}  # bourg's first block, sealed
ENTRY = {**CITY, "index": "first_entry"}
RELATION = {**CITY, "public_id": "relation.public_id"}  # bourg watches annecy's chain
FOREIGN_RELATION = {**CITY, "public_id": "foreign_relation.public_id"}  # annecy's, under bourg
PENDING = {"public_id": "pending_subscription.public_id"}  # the provider's, to join
BATCH_CREDENTIAL = {"public_id": "batch.credential.public_id"}  # issued to the resident
NEIGHBOUR_PENDING = {"public_id": "neighbour_subscription.public_id"}


def _outsider_signature() -> dict:
    """Well-formed signatures by a DID outside bourg's validator set."""
    key = Ed25519PrivateKey.generate()
    return {
        "validator": did_from_public_key(public_key_raw(key)),
        "header_signature": key.sign(b"header").hex(),
        "note_signature": key.sign(b"note").hex(),
    }


OUTSIDER_SIGNATURE = _outsider_signature()

_OUTSIDER_KEY, _SUCCESSOR_KEY = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
OUTSIDER_ROTATION = {
    "validator": did_from_public_key(public_key_raw(_OUTSIDER_KEY)),
    "successor": did_from_public_key(public_key_raw(_SUCCESSOR_KEY)),
    "effective_height": 10**6,  # far ahead: the refusal is the set, never the height
}


@functools.cache
def _outsider_rotation_signed(slug: str) -> dict:
    """A key rotation well signed by both keys, for a validator outside the city's set."""
    created_at = format_timestamp(timezone.now())
    payload = {
        "validator": OUTSIDER_ROTATION["validator"],
        "successor": OUTSIDER_ROTATION["successor"],
        "effective_height": OUTSIDER_ROTATION["effective_height"],
    }
    tx = {
        "chain": slug,
        "kind": ROTATE_KIND,
        "actor": payload["validator"],
        "payload": payload,
        "created_at": created_at,
    }
    statement = rotation_successor_statement(chain=slug, created_at=created_at, **payload)
    return {
        **payload,
        "created_at": created_at,
        "signature": _OUTSIDER_KEY.sign(canonical_json(tx)).hex(),
        "successor_signature": _SUCCESSOR_KEY.sign(statement).hex(),
    }


OUTSIDER_ROTATION_SIGNED = {
    field: (lambda world, field=field: _outsider_rotation_signed(world.city.slug)[field])
    for field in (*OUTSIDER_ROTATION, "created_at", "signature", "successor_signature")
}


# fmt: off
SIMULATION_PAGE_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact_simulation:list", CITY),
    page("L   403 403 403 403 403 403 200 403 403 403", "GET", "impact_simulation:create", CITY),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "impact_simulation:create",
        CITY, note="an empty body"),
    page("L   403 403 403 400 400 400 400 403 403 400", "GET", "impact_simulation:compare", CITY,
        note="no scenario chosen"),
    page("L   403 403 403 400 400 400 400 403 403 400", "GET", "impact_simulation:compare_csv",
        CITY, note="no scenario chosen"),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact_simulation:detail",
        SCENARIO, note="the staff's"),
    page("L   403 403 403 404 404 404 404 403 403 404", "GET", "impact_simulation:detail",
        FOREIGN_SCENARIO, note="another city's"),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "impact_simulation:attach",
        SCENARIO, {"proposal": ref("draft.public_id")}, "the staff's, to the resident's draft"),
    page("L   403 403 403 403 403 403 404 403 403 403", "POST", "impact_simulation:attach",
        FOREIGN_SCENARIO, {"proposal": ref("draft.public_id")}, "another city's"),
    page("L   403 403 403 200 200 200 200 403 403 200", "GET", "impact_simulation:forecast",
        SCENARIO, note="the staff's"),
    page("L   403 403 403 404 404 404 404 403 403 404", "GET", "impact_simulation:forecast",
        FOREIGN_SCENARIO, note="another city's"),
]

LEDGER_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger:chain_list", NONE),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger:receipt_verify", NONE),
    page("400 400 400 400 400 400 400 400 400 400 400", "POST", "ledger:receipt_verify", NONE,
        note="an empty body"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger:chain_detail", CITY),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger:block_detail", BLOCK),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger:entry_detail", ENTRY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:chains", NONE),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:checkpoint", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:block", BLOCK),
    api("403 403 403 403 403 403 403 403 403 403 403", "POST", "ledger_api:block_signatures",
        BLOCK, OUTSIDER_SIGNATURE, "a DID outside the set", {403: "not_a_validator"}),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:awaiting", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:validators", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:validator_changes",
        CITY),
    api("403 403 403 403 403 403 403 403 403 403 403", "POST",
        "ledger_api:validator_rotate_prepare", CITY, OUTSIDER_ROTATION, "a DID outside the set",
        {403: "not_a_validator"}),
    api("403 403 403 403 403 403 403 403 403 403 403", "POST", "ledger_api:validator_rotate",
        CITY, OUTSIDER_ROTATION_SIGNED, "well signed, by a DID outside the set",
        {403: "not_a_validator"}),
    api("400 400 400 400 400 400 400 400 400 400 400", "POST", "ledger_api:validator_rotate",
        CITY, note="an empty body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:equivocations", CITY),
    api("400 400 400 400 400 400 400 400 400 400 400", "POST", "ledger_api:equivocation_submit",
        NONE, note="an empty body"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:entry", ENTRY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "ledger_api:entry_proof", ENTRY,
        note="in the latest tree"),
    api("400 400 400 400 400 400 400 400 400 400 400", "GET", "ledger_api:consistency", CITY,
        note="no sizes"),
    api("400 400 400 400 400 400 400 400 400 400 400", "POST", "ledger_api:receipt_verify", NONE,
        note="an empty body"),
]

WITNESS_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "witnesses:city", CITY),
    page("L   403 403 403 403 403 403 400 403 403 403", "POST", "witnesses:add", CITY,
        note="an empty body"),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "witnesses:check", CITY),
    page("L   403 403 403 403 403 403 M   403 403 403", "POST", "witnesses:remove", RELATION,
        note="bourg's"),
    page("L   403 403 403 403 403 403 404 403 403 403", "POST", "witnesses:remove",
        FOREIGN_RELATION, note="annecy's, under bourg"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "witnesses_api:city_relations", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "witnesses_api:checkpoint", CITY),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "witnesses_api:cosignatures", CITY),
    # C2SP tlog-witness push: no account, the log's checkpoint signatures authenticate it
    # (tests/witnesses/test_add_checkpoint.py covers 200, 403, 404, 409 and 422).
    api("400 400 400 400 400 400 400 400 400 400 400", "POST", "witnesses_api:add_checkpoint",
        CITY, note="not a tlog-witness body"),
]

COOPERATIVE_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative:overview", NONE),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "cooperative:setup", NONE,
        note="set up already"),
    page("L   403 403 403 400 403 403 403 403 403 403", "POST", "cooperative:proposal_create",
        NONE, note="an empty body"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "cooperative:proposal", MISSING,
        note="no such proposal"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "cooperative:proposal_open",
        MISSING, note="no such proposal"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "cooperative:proposal_vote",
        MISSING, {"choice": "yes"}, "no such proposal"),
    page("L   403 403 403 403 403 403 403 404 404 403", "POST", "cooperative:proposal_close",
        MISSING, note="no such proposal: the board closes"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative:cap_table", NONE),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative:cap_table_csv", NONE),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "cooperative:my_shares", NONE),
    page("L   400 400 400 400 400 400 400 400 400 400", "POST", "cooperative:subscribe", NONE,
        note="an empty body"),
    page("L   400 400 400 400 400 400 400 400 400 400", "POST", "cooperative:transfer", NONE,
        note="an empty body"),
    page("L   400 400 400 400 400 400 400 400 400 400", "POST", "cooperative:withdraw", NONE,
        note="an empty body"),
    page("L   403 403 403 403 M   403 403 M   M 403", "POST", "cooperative:subscription_cancel",
        PENDING, note="the provider's"),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "cooperative:subscription_cancel",
        NEIGHBOUR_PENDING, note="another's"),
    page("L   403 403 403 403 403 403 403 200 200 403", "GET", "cooperative:board", NONE),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "cooperative:subscription_admit",
        PENDING, note="the provider's"),
    page("L   403 403 403 403 403 403 403 M   M 403", "POST", "cooperative:subscription_refuse",
        PENDING, note="the provider's"),
    page("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative:distributions", NONE),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "cooperative:distribution",
        MISSING, note="no such distribution"),
    page("404 404 404 404 404 404 404 404 404 404 404", "GET", "cooperative:distribution_csv",
        MISSING, note="no such distribution"),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative_api:overview", NONE),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative_api:cap_table", NONE),
    api("200 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative_api:distributions",
        NONE),
    api("404 404 404 404 404 404 404 404 404 404 404", "GET", "cooperative_api:distribution",
        MISSING, note="no such distribution"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "cooperative_api:my_shares", NONE),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "cooperative_api:subscribe", NONE,
        note="an empty body"),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "cooperative_api:admit", PENDING,
        note="the provider's"),
    api("401 403 403 403 403 200 403 403 200 200 403", "POST", "cooperative_api:refuse", PENDING,
        note="the provider's: the board, or the subscriber withdrawing"),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "cooperative_api:refuse",
        NEIGHBOUR_PENDING, note="another's"),
    api("401 403 403 403 403 403 403 403 200 200 403", "POST", "cooperative_api:admit",
        NEIGHBOUR_PENDING, note="another's, the provider asking"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "cooperative_api:transfer", NONE,
        note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "cooperative_api:withdraw", NONE,
        note="an empty body"),
]

IDENTITY_ROWS: list[Row] = [
    #     ano for fst app res pro riv sta ope opp
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "identity:profile", NONE),
    page("L   200 200 200 200 200 200 200 200 200 200", "GET", "identity:key_export", NONE),
    page("L   400 400 400 400 400 400 400 400 400 400", "POST", "identity:key_export", NONE,
        note="an empty body"),
    page("L   M   M   M   M   M   M   M   M   M M", "POST", "identity:attest", NONE,
        note="an empty body: back to the profile, with the error"),
    page("L   M   M   M   M   M   M   M   M   M M", "POST", "identity:token_create", NONE,
        note="asks to sign in again first"),
    page("L   M   M   M   M   M   M   M   M   M M", "POST", "identity:notification_settings",
        NONE, note="an empty body: every notification off"),
    page("L   404 404 404 404 404 404 404 404 404 404", "GET", "identity:credential_download",
        MISSING, note="no such credential"),
    page("L   404 404 404 404 404 404 404 404 404 404", "POST", "identity:credential_revoke",
        MISSING, note="no such credential"),
    page("L   404 404 404 200 404 404 404 404 404 200", "GET", "identity:credential_download",
        BATCH_CREDENTIAL, note="the resident's batch's"),
    page("L   404 404 404 M   404 404 404 404 404 M", "POST", "identity:credential_revoke",
        BATCH_CREDENTIAL, note="the resident's batch's: the issuer revokes, back with the error"),
    api("401 200 200 200 200 200 200 200 200 200 200", "GET", "identity_api:me", NONE),
    api("400 400 400 400 400 400 400 400 400 400 400", "POST", "identity_api:credential_verify",
        NONE, note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST",
        "identity_api:attestation_create_prepare", NONE, note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "identity_api:attestation_create",
        NONE, note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST",
        "identity_api:key_register_prepare", NONE, note="an empty body"),
    api("401 400 400 400 400 400 400 400 400 400 400", "POST", "identity_api:key_register", NONE,
        note="an empty body"),
]
# fmt: on

NETWORK_ROWS: list[Row] = (
    SIMULATION_PAGE_ROWS + LEDGER_ROWS + WITNESS_ROWS + COOPERATIVE_ROWS + IDENTITY_ROWS
)
