"""The only writers of witnessing state.

- `witness_add` / `witness_remove`: the witnessing city's municipality staff start or stop
  watching a log; each is signed by that staff member on the witnessing city's chain.
- `witness_observe`: one round for one relation: fetch the log's checkpoint; for a larger
  tree, follow the log's validator-set changes recorded since the last checkpoint seen, each
  accepted only as the log proves it (`witnesses.light_client`: the change transaction
  signed, in the checkpointed tree, sealed by a quorum of the set in force before it); check
  the checkpoint's signatures against the set in force at its height (a quorum of it), then
    * same size and root as last seen: nothing new (idempotent);
    * a larger tree: check the RFC 9162 consistency proof from the last seen one, then cosign
      (C2SP cosignature/v1 by the witnessing city's DID) and remember it;
    * a smaller tree, the same size with another root, a proof that fails, or a validator
      change the log does not prove: refuse, keep both checkpoints (and the change) as
      evidence (once), record its digests on the witnessing city's chain and alert the
      municipalities of both cities.
  When a round proves changes or moves to a new set, the witnessing city signs the set it now
  follows on its chain (`witnesses.relation.validators`).
  A checkpoint that is unsigned, badly signed or unreachable is only an error on the relation:
  it proves nothing about the log.
- `witness_checkpoint_add`: the same checks when the log pushes its checkpoint (C2SP
  tlog-witness `add-checkpoint`) instead of waiting for the round.
- `witness_all`: the Celery beat round over every active relation.

Cosignatures are not ledger transactions: each is a self-verifying signed statement, and
writing one on the witness's chain would give two cities that witness each other a new
checkpoint to cosign after every round, forever.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City
from identity.models import User
from ledger import merkle
from ledger.canonical import canonical_json
from ledger.checkpoint import Checkpoint, CheckpointError, parse_checkpoint
from ledger.didkey import InvalidDid, public_key_from_did
from ledger.models import Chain
from ledger.quorum import Change, Schedule, ValidatorSet
from ledger.services import ledger_append
from ledger.signing import checkpoint_origin
from smartb.outbox import outbox_enqueue

from .cosignature import cosign, verify_log_signatures
from .errors import (
    AlreadyWitnessing,
    FetchFailed,
    InvalidWitness,
    LogNotAuthenticated,
    NotAllowed,
    OldSizeMismatch,
    ProofRejected,
    PushMalformed,
    UnknownLog,
)
from .fetchers import Fetcher, HttpFetcher, LocalFetcher
from .light_client import (
    ChangeNotProved,
    block_header,
    change_digest,
    change_to_dict,
    header_signed_by_quorum,
    prove_change,
    relation_schedule,
)
from .models import Cosignature, Inconsistency, Reason, Source, WitnessRelation
from .permissions import can_manage_witnessing
from .tlog_witness import MalformedPush, parse_add_checkpoint

logger = logging.getLogger(__name__)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def witness_key_name(city: City) -> str:
    """The cosigner name of a city: a schema-less URL, as C2SP recommends."""
    host = settings.SMARTB_LEDGER_ORIGIN.split("/", 1)[0]
    return f"{host}/witnesses/{city.slug}"


def _signer_of(user: User):
    identity = user.primary_identity
    if identity is None:
        raise NotAllowed(_("Your account has no active DID."))
    return identity


def local_log_set(chain: Chain) -> tuple[list[str], int]:
    """The validator DIDs and quorum a witness pins for a chain of this deployment: the set
    the chain's own ledger puts in force at its latest block."""
    keys, quorum, _pending, _follow_from = _local_log_view(chain)
    return keys, quorum


def _local_log_view(chain: Chain) -> tuple[list[str], int, list[dict], int]:
    """The set in force at the chain's latest block, the changes it recorded for later
    heights, and the tree size from which the witness follows the next ones."""
    from ledger import selectors as ledger_selectors

    latest = chain.blocks.order_by("-height").first()
    height = latest.height if latest else 0
    schedule = ledger_selectors.chain_schedule(chain=chain)
    in_force = schedule.at(height)
    pending = [change_to_dict(change) for change in schedule.upcoming(height)]
    return list(in_force.members), in_force.quorum, pending, latest.tree_size if latest else 0


def _clean_keys(keys: list[str], quorum: int) -> list[str]:
    cleaned = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
    if not cleaned:
        raise InvalidWitness(_("Give at least one validator DID of the log."))
    for did in cleaned:
        try:
            public_key_from_did(did)
        except InvalidDid as error:
            message = _("Not an Ed25519 did:key: %(did)s") % {"did": did[:80]}
            raise InvalidWitness(message) from error
    if not 1 <= quorum <= len(cleaned):
        raise InvalidWitness(_("The quorum is between 1 and the number of validator DIDs."))
    return cleaned


@transaction.atomic
def witness_add(
    *,
    city: City,
    by: User,
    chain: Chain | None = None,
    base_url: str = "",
    log_slug: str = "",
    origin: str = "",
    log_keys: list[str] | None = None,
    quorum: int | None = None,
) -> WitnessRelation:
    """`city` starts witnessing a log: a chain of this deployment (`chain`), or `log_slug` on
    the deployment at `base_url` with its `origin` and validator DIDs. A checkpoint then needs
    valid signatures by `quorum` of those DIDs (default: for a local chain, the set and quorum
    its ledger has in force; otherwise 1). Signed by `by`, who must be the city's municipality
    staff, on the city's chain."""
    if not can_manage_witnessing(by, city):
        raise NotAllowed()
    if chain is not None:
        if chain.pk == city.chain_id:
            raise InvalidWitness(_("A city does not witness its own chain."))
        source, log_slug, origin, base_url = Source.LOCAL, chain.slug, "", ""
        origin = checkpoint_origin(chain.slug)
        pinned, pinned_quorum, pending, follow_from = _local_log_view(chain)
        quorum = quorum or (pinned_quorum if not log_keys else 1)
        keys = _clean_keys(log_keys or pinned, quorum)
        if log_keys:  # the staff's own keys: no change recorded before is assumed
            pending = []
    else:
        source = Source.REMOTE
        base_url, log_slug, origin = base_url.strip(), log_slug.strip(), origin.strip()
        if not base_url.startswith(("https://", "http://")) or len(base_url) > 300:
            raise InvalidWitness(_("Give the deployment's http(s) address."))
        if not log_slug or not origin or any(c.isspace() for c in origin) or len(origin) > 255:
            raise InvalidWitness(_("Give the chain's slug and its checkpoint origin line."))
        quorum = quorum or 1
        keys = _clean_keys(log_keys or [], quorum)
        pending, follow_from = [], None  # changes are followed from the first checkpoint
    if WitnessRelation.objects.filter(witness=city, origin=origin, removed_at=None).exists():
        raise AlreadyWitnessing()
    try:
        with transaction.atomic():
            relation = WitnessRelation.objects.create(
                witness=city,
                source=source,
                chain=chain,
                base_url=base_url,
                log_slug=log_slug,
                origin=origin,
                log_keys=keys,
                quorum=quorum,
                pending_changes=pending,
                follow_from=follow_from,
                added_by=by,
            )
    except IntegrityError as error:  # a concurrent add of the same log
        raise AlreadyWitnessing() from error
    ledger_append(
        chain=city.chain,
        actor=_signer_of(by),
        kind="witnesses.relation.add",
        payload={
            "relation": relation.public_id,
            "witness": city.identity.did,
            "source": source,
            "log": log_slug,
            "origin": sha256_text(origin),
            "deployment": sha256_text(base_url) if base_url else "",
            "validators": keys,
            "quorum": quorum,
        },
    )
    return relation


@transaction.atomic
def witness_remove(*, relation: WitnessRelation, by: User) -> WitnessRelation:
    """Stop witnessing; cosignatures and evidence already made stay."""
    relation = (
        WitnessRelation.objects.select_for_update().select_related("witness").get(pk=relation.pk)
    )
    if not can_manage_witnessing(by, relation.witness):
        raise NotAllowed()
    if relation.removed_at is not None:
        raise InvalidWitness(_("This log is no longer witnessed."))
    relation.removed_at = timezone.now()
    relation.removed_by = by
    relation.save(update_fields=["removed_at", "removed_by"])
    ledger_append(
        chain=relation.witness.chain,
        actor=_signer_of(by),
        kind="witnesses.relation.remove",
        payload={"relation": relation.public_id, "witness": relation.witness.identity.did},
    )
    return relation


def fetcher_for(relation: WitnessRelation) -> Fetcher:
    if relation.source == Source.LOCAL:
        return LocalFetcher(relation.log_slug)
    return HttpFetcher(relation.base_url, relation.log_slug)


@dataclass(frozen=True)
class Observation:
    """What one round gave: "cosigned", "unchanged", "refused" (evidence) or "error"."""

    outcome: str
    tree_size: int | None = None
    cosignature: Cosignature | None = None
    inconsistency: Inconsistency | None = None
    error: str = ""


def _record_error(relation: WitnessRelation, message: str, now: datetime) -> Observation:
    WitnessRelation.objects.filter(pk=relation.pk).update(
        last_checked_at=now, last_error=str(message)[:300]
    )
    return Observation(outcome="error", error=str(message))


def witness_observe(
    *, relation: WitnessRelation, fetcher: Fetcher | None = None, now: datetime | None = None
) -> Observation:
    """One witnessing round for `relation` (see the module docstring). Network reads happen
    before any database lock; the decision is taken again under the relation's row lock, so
    concurrent rounds cosign a size once."""
    now = now or timezone.now()
    relation.refresh_from_db()  # judge against what the database holds, not a stale copy
    if relation.removed_at is not None:
        return Observation(outcome="error", error=_("This log is no longer witnessed."))
    fetcher = fetcher or fetcher_for(relation)
    seen_size, seen_root = relation.last_size, relation.last_root
    followed = _Followed(ValidatorSet(tuple(relation.log_keys), relation.quorum), None, None)
    try:
        text = fetcher.checkpoint()
        new = parse_checkpoint(text)
        if new.origin != relation.origin:
            raise FetchFailed(_("The checkpoint names another origin."))
        if seen_size is None or new.tree_size > seen_size:
            # A larger tree may be signed by a set the log changed to meanwhile.
            followed = _follow_validators(relation, fetcher, new)
        keys = [public_key_from_did(did) for did in followed.in_force.members]
        verify_log_signatures(text, public_keys=keys, quorum=followed.in_force.quorum)
    except (FetchFailed, CheckpointError, InvalidDid) as error:
        return _record_error(relation, getattr(error, "message", str(error)), now)
    except ChangeNotProved as refusal:
        return _refuse_under_lock(
            relation, text, new, Reason.BAD_VALIDATOR_CHANGE, _change_evidence(refusal), now
        )
    proof: list[bytes] | None = None
    reason = _judge(seen_size, seen_root, new)
    if reason is None and seen_size and new.tree_size > seen_size:
        try:
            proof = fetcher.consistency(seen_size, new.tree_size)
        except FetchFailed as error:
            return _record_error(relation, error.message, now)
        consistent = merkle.verify_consistency(
            seen_size, new.tree_size, bytes.fromhex(seen_root), new.root, proof
        )
        if not consistent:
            reason = Reason.BAD_PROOF
    if reason is not None:
        evidence = None if proof is None else _proof_dict(seen_size, new.tree_size, proof)
        return _refuse_under_lock(relation, text, new, reason, evidence, now)
    with transaction.atomic():
        locked = _locked_if_unmoved(relation, seen_size, seen_root)
        if locked is None:
            # Another round moved on meanwhile: the next round judges against its view.
            return Observation(outcome="unchanged", tree_size=relation.last_size)
        locked.last_checked_at, locked.last_error = now, ""
        if seen_size == new.tree_size:
            locked.save(update_fields=["last_checked_at", "last_error"])
            return Observation(outcome="unchanged", tree_size=seen_size)
        return _cosign(locked, text, new, now, followed)


def _locked_if_unmoved(
    relation: WitnessRelation, seen_size: int | None, seen_root: str
) -> WitnessRelation | None:
    locked = (
        WitnessRelation.objects.select_for_update()
        .select_related("witness__identity", "witness__chain")
        .get(pk=relation.pk)
    )
    if (locked.last_size, locked.last_root) != (seen_size, seen_root):
        relation.last_size = locked.last_size
        return None
    return locked


def _refuse_under_lock(
    relation: WitnessRelation,
    text: str,
    new: Checkpoint,
    reason: str,
    evidence: dict | None,
    now: datetime,
) -> Observation:
    seen_size, seen_root = relation.last_size, relation.last_root
    with transaction.atomic():
        locked = _locked_if_unmoved(relation, seen_size, seen_root)
        if locked is None:
            return Observation(outcome="unchanged", tree_size=relation.last_size)
        return _refuse(locked, text, new, reason, evidence, now)


@dataclass(frozen=True)
class _Followed:
    """The log's set in force at the new checkpoint's height (`height`, None when no change
    was ever followed), the changes still to come, and those this round proved."""

    in_force: ValidatorSet
    height: int | None
    schedule: Schedule | None
    proved: tuple[tuple[Change, dict, int], ...] = ()


def _follow_validators(relation: WitnessRelation, fetcher: Fetcher, new: Checkpoint) -> _Followed:
    """Prove the log's validator changes between the last checkpoint seen and `new`, then
    give the set in force at `new`'s height (see `witnesses.light_client`). Raises
    FetchFailed / CheckpointError (an error: nothing proved) or ChangeNotProved (evidence)."""
    schedule = relation_schedule(
        log_keys=relation.log_keys, quorum=relation.quorum, pending=relation.pending_changes
    )
    start = relation.last_size if relation.last_size is not None else relation.follow_from
    proved: list[tuple[Change, dict, int]] = []
    if start is not None and new.tree_size > start:
        for tx in fetcher.validator_changes(start, new.tree_size):
            index = tx.get("index")
            if type(index) is not int or not start <= index < new.tree_size:
                raise FetchFailed(_("The answer is not in the expected format."))
            block = fetcher.block_sealing(index)
            size = block.get("tree_size")
            if type(size) is not int or not index < size <= new.tree_size:
                raise ChangeNotProved("no block of the checkpointed tree seals it", transaction=tx)
            inclusion = fetcher.inclusion(index, size)
            consistency = fetcher.consistency(size, new.tree_size) if size < new.tree_size else []
            change = prove_change(
                tx=tx,
                block=block,
                inclusion=inclusion,
                consistency=consistency,
                checkpoint=new,
                schedule=schedule,
                chain_slug=relation.log_slug,
            )
            schedule.add(change)
            proved.append((change, tx, block["height"]))
    if not schedule.changes:
        return _Followed(schedule.genesis, relation.last_height, None)
    # A change is known: which set signs `new` depends on its height, which its block's
    # header (signed by that set) states.
    block = fetcher.block_of_size(new.tree_size)
    header = block_header(block, chain_slug=relation.log_slug)
    if header["tree_size"] != new.tree_size or header["root"] != new.root.hex():
        raise FetchFailed(_("The log's block does not match its checkpoint."))
    height = header["height"]
    floor = max([h for _, _, h in proved] + [relation.last_height or 0])
    if height < floor:
        raise FetchFailed(_("The log's block heights go backwards."))
    in_force = schedule.at(height)
    if not header_signed_by_quorum(block, header, in_force):
        raise CheckpointError(
            "the block header is not signed by a quorum of the validators in force at its height"
        )
    return _Followed(in_force, height, schedule, tuple(proved))


def _change_evidence(refusal: ChangeNotProved) -> dict:
    return {
        "validator_change": {
            "reason": refusal.reason,
            "transaction": refusal.transaction,
            "block": refusal.block,
            "digest": change_digest(refusal.transaction),
        }
    }


def _judge(seen_size: int | None, seen_root: str, new: Checkpoint) -> str | None:
    """The reason to refuse `new` without a proof, or None."""
    if seen_size is None:
        return None
    if new.tree_size < seen_size:
        return Reason.ROLLBACK
    if new.tree_size == seen_size and new.root.hex() != seen_root:
        return Reason.FORK
    return None


def _cosign(
    relation: WitnessRelation, text: str, new: Checkpoint, now: datetime, followed: _Followed
) -> Observation:
    city = relation.witness
    identity = city.identity
    made = cosign(
        body=new.body,
        name=witness_key_name(city),
        public_key=identity.public_key,
        sign=identity.sign,
        timestamp=int(now.timestamp()),
    )
    cosignature = Cosignature.objects.create(
        relation=relation,
        witness_did=identity.did,
        key_name=made.name,
        origin=new.origin,
        tree_size=new.tree_size,
        root=new.root.hex(),
        timestamp=made.timestamp,
        signature=made.signature.hex(),
        line=made.line,
        checkpoint=text,
    )
    relation.last_size = new.tree_size
    relation.last_root = new.root.hex()
    relation.last_checkpoint = text
    relation.last_seen_at = now
    fields = ["last_size", "last_root", "last_checkpoint", "last_seen_at"]
    fields += ["last_checked_at", "last_error"]
    if followed.schedule is not None:
        _follow_record(relation, followed)
        fields += ["log_keys", "quorum", "pending_changes", "last_height"]
    relation.save(update_fields=fields)
    return Observation(outcome="cosigned", tree_size=new.tree_size, cosignature=cosignature)


def _follow_record(relation: WitnessRelation, followed: _Followed) -> None:
    """Move the relation to the set in force at the new checkpoint; when this round proved
    changes or the set in force changed, the witnessing city signs what it now follows."""
    in_force, height = followed.in_force, followed.height
    changed = (list(in_force.members), in_force.quorum) != (relation.log_keys, relation.quorum)
    relation.log_keys, relation.quorum = list(in_force.members), in_force.quorum
    relation.pending_changes = [change_to_dict(c) for c in followed.schedule.upcoming(height)]
    relation.last_height = height
    if not (changed or followed.proved):
        return
    city = relation.witness
    ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="witnesses.relation.validators",
        payload={
            "relation": relation.public_id,
            "witness": city.identity.did,
            "origin": sha256_text(relation.origin),
            "height": height,
            "validators": list(in_force.members),
            "quorum": in_force.quorum,
            "changes": [
                {
                    "index": change.position,
                    "kind": change.kind,
                    "effective_height": change.effective_height,
                    "sealed_at_height": sealed_height,
                    "digest": change_digest(tx),
                }
                for change, tx, sealed_height in followed.proved
            ],
        },
    )


def _proof_dict(first: int, second: int, proof: list[bytes]) -> dict:
    return {"first": first, "second": second, "proof": [h.hex() for h in proof]}


def evidence_digest(
    origin: str, old_checkpoint: str, new_checkpoint: str, *, change: str | None = None
) -> str:
    value = {"origin": origin, "old": old_checkpoint, "new": new_checkpoint}
    if change:  # an unproved validator change: the same checkpoints may show several
        value["change"] = change
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _refuse(
    relation: WitnessRelation,
    text: str,
    new: Checkpoint,
    reason: str,
    proof: dict | None,
    now: datetime,
) -> Observation:
    relation.last_checked_at = now
    relation.last_error = str(Reason(reason).label)[:300]
    relation.save(update_fields=["last_checked_at", "last_error"])
    change = (proof or {}).get("validator_change")
    digest = evidence_digest(
        relation.origin, relation.last_checkpoint, text, change=change and change["digest"]
    )
    existing = Inconsistency.objects.filter(digest=digest).first()
    if existing is not None:  # the same evidence again: kept and announced once
        return Observation(outcome="refused", tree_size=new.tree_size, inconsistency=existing)
    evidence = Inconsistency.objects.create(
        relation=relation,
        reason=reason,
        old_checkpoint=relation.last_checkpoint,
        new_checkpoint=text,
        proof=proof,
        digest=digest,
    )
    city = relation.witness
    evidence.entry = ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="witnesses.inconsistency.record",
        payload={
            "inconsistency": evidence.public_id,
            "relation": relation.public_id,
            "witness": city.identity.did,
            "reason": reason,
            "origin": sha256_text(relation.origin),
            "old_size": relation.last_size,
            "old_root": relation.last_root,
            "old_checkpoint": sha256_text(relation.last_checkpoint),
            "new_size": new.tree_size,
            "new_root": new.root.hex(),
            "new_checkpoint": sha256_text(text),
            "evidence": digest,
        },
    )
    evidence.save(update_fields=["entry"])
    from .tasks import notify_inconsistency

    # Owed once the evidence commits, even with the broker down at that moment (outbox).
    outbox_enqueue(notify_inconsistency, evidence.pk)
    return Observation(outcome="refused", tree_size=new.tree_size, inconsistency=evidence)


def witness_checkpoint_add(
    *, city: City, body: bytes, fetcher: Fetcher | None = None, now: datetime | None = None
) -> Cosignature:
    """A log pushes its checkpoint to `city` (C2SP tlog-witness `add-checkpoint`): cosign it
    when it extends the checkpoint the city last cosigned for that origin, with the checks of
    the pull round (`witness_observe`). The log is authenticated by its checkpoint alone:
    signed by a quorum of the set in force at its height, validator changes followed from the
    log itself (`fetcher`, default: where the relation reads the log).

    Raises PushMalformed (400), UnknownLog (404), LogNotAuthenticated (403), OldSizeMismatch
    (409, with the size last cosigned) and ProofRejected (422). Two signed checkpoints of one
    size with different roots are kept as evidence (fork) before the 409; a proof that fails
    is not (anyone may relay a signed checkpoint with a bad proof). The old size is checked
    again under the relation's row lock, so concurrent pushes never roll the witness back.
    """
    now = now or timezone.now()
    try:
        pushed = parse_add_checkpoint(body)
        new = parse_checkpoint(pushed.checkpoint)
    except (MalformedPush, CheckpointError) as error:
        raise PushMalformed(str(error)) from error
    if new.tree_size == 0 or pushed.old > new.tree_size:
        raise PushMalformed(_("The old size is above the checkpoint's size."))
    relation = (
        WitnessRelation.objects.filter(witness=city, origin=new.origin, removed_at=None)
        .order_by("pk")
        .first()
    )
    if relation is None:
        raise UnknownLog()
    seen_size, seen_root = relation.last_size, relation.last_root
    followed = _Followed(ValidatorSet(tuple(relation.log_keys), relation.quorum), None, None)
    try:
        if seen_size is None or new.tree_size > seen_size:
            followed = _follow_validators(relation, fetcher or fetcher_for(relation), new)
        keys = [public_key_from_did(did) for did in followed.in_force.members]
        verify_log_signatures(pushed.checkpoint, public_keys=keys, quorum=followed.in_force.quorum)
    except (FetchFailed, CheckpointError, InvalidDid) as error:
        raise LogNotAuthenticated() from error
    except ChangeNotProved as refusal:
        _refuse_under_lock(
            relation,
            pushed.checkpoint,
            new,
            Reason.BAD_VALIDATOR_CHANGE,
            _change_evidence(refusal),
            now,
        )
        raise LogNotAuthenticated() from refusal
    if pushed.old != (seen_size or 0):
        raise OldSizeMismatch(seen_size or 0)
    if seen_size == new.tree_size:
        if new.root.hex() != seen_root:
            _refuse_under_lock(relation, pushed.checkpoint, new, Reason.FORK, None, now)
            raise OldSizeMismatch(seen_size, _("The log signed another root for this size."))
        return relation.cosignatures.get(tree_size=seen_size)
    if seen_size and not merkle.verify_consistency(
        seen_size, new.tree_size, bytes.fromhex(seen_root), new.root, list(pushed.proof)
    ):
        raise ProofRejected()
    with transaction.atomic():
        locked = _locked_if_unmoved(relation, seen_size, seen_root)
        if locked is None:
            raise OldSizeMismatch(relation.last_size or 0)
        locked.last_checked_at, locked.last_error = now, ""
        return _cosign(locked, pushed.checkpoint, new, now, followed).cosignature


def witness_all(*, now: datetime | None = None) -> dict[str, int]:
    """One round over every active relation; one failing log never stops the others."""
    counts: dict[str, int] = {}
    relations = WitnessRelation.objects.filter(removed_at=None).order_by("pk")
    for relation in relations.iterator():
        try:
            outcome = witness_observe(relation=relation, now=now).outcome
        except Exception:  # noqa: BLE001 - logged; the next relation still gets its round
            logger.exception("witnessing %s failed", relation.public_id)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
