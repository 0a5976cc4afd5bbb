"""The only writers of witnessing state.

- `witness_add` / `witness_remove`: the witnessing city's municipality staff start or stop
  watching a log; each is signed by that staff member on the witnessing city's chain.
- `witness_observe`: one round for one relation: fetch the log's checkpoint, check its
  signatures against the log's keys (a quorum of them), then
    * same size and root as last seen: nothing new (idempotent);
    * a larger tree: check the RFC 9162 consistency proof from the last seen one, then cosign
      (C2SP cosignature/v1 by the witnessing city's DID) and remember it;
    * a smaller tree, the same size with another root, or a proof that fails: refuse, keep
      both signed checkpoints as evidence (once), record its digests on the witnessing city's
      chain and alert the municipalities of both cities.
  A checkpoint that is unsigned, badly signed or unreachable is only an error on the relation:
  it proves nothing about the log.
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
from ledger.checkpoint import Checkpoint, CheckpointError
from ledger.didkey import InvalidDid, public_key_from_did
from ledger.models import Chain
from ledger.services import ledger_append
from ledger.signing import checkpoint_origin, trusted_validators
from smartb.outbox import outbox_enqueue

from .cosignature import cosign, verify_log_signatures
from .errors import AlreadyWitnessing, FetchFailed, InvalidWitness, NotAllowed
from .fetchers import Fetcher, HttpFetcher, LocalFetcher
from .models import Cosignature, Inconsistency, Reason, Source, WitnessRelation
from .permissions import can_manage_witnessing

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
    the chain's own ledger puts in force at its latest block (`ledger.selectors`, when the
    ledger records validator sets), else the platform's trusted validators and whoever signed
    the latest block, quorum 1."""
    from ledger import selectors as ledger_selectors

    latest = chain.blocks.order_by("-height").first()
    set_at = getattr(ledger_selectors, "validator_set_at", None)
    if set_at is not None:
        in_force = set_at(chain=chain, height=latest.height if latest else 0)
        return list(in_force.members), in_force.quorum
    dids = list(trusted_validators())
    if latest is not None:
        dids += list(latest.signatures.order_by("pk").values_list("validator", flat=True))
    return list(dict.fromkeys(dids)), 1


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
        pinned, pinned_quorum = local_log_set(chain)
        quorum = quorum or (pinned_quorum if not log_keys else 1)
        keys = _clean_keys(log_keys or pinned, quorum)
    else:
        source = Source.REMOTE
        base_url, log_slug, origin = base_url.strip(), log_slug.strip(), origin.strip()
        if not base_url.startswith(("https://", "http://")) or len(base_url) > 300:
            raise InvalidWitness(_("Give the deployment's http(s) address."))
        if not log_slug or not origin or any(c.isspace() for c in origin) or len(origin) > 255:
            raise InvalidWitness(_("Give the chain's slug and its checkpoint origin line."))
        quorum = quorum or 1
        keys = _clean_keys(log_keys or [], quorum)
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
    try:
        text = fetcher.checkpoint()
        keys = [public_key_from_did(did) for did in relation.log_keys]
        checked = verify_log_signatures(text, public_keys=keys, quorum=relation.quorum)
    except (FetchFailed, CheckpointError, InvalidDid) as error:
        return _record_error(relation, getattr(error, "message", str(error)), now)
    new = checked.checkpoint
    if new.origin != relation.origin:
        return _record_error(relation, _("The checkpoint names another origin."), now)
    seen_size, seen_root = relation.last_size, relation.last_root
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
    with transaction.atomic():
        locked = (
            WitnessRelation.objects.select_for_update()
            .select_related("witness__identity", "witness__chain")
            .get(pk=relation.pk)
        )
        if (locked.last_size, locked.last_root) != (seen_size, seen_root):
            # Another round moved on meanwhile: the next round judges against its view.
            return Observation(outcome="unchanged", tree_size=locked.last_size)
        if reason is not None:
            return _refuse(locked, text, new, reason, proof, now)
        locked.last_checked_at, locked.last_error = now, ""
        if seen_size == new.tree_size:
            locked.save(update_fields=["last_checked_at", "last_error"])
            return Observation(outcome="unchanged", tree_size=seen_size)
        return _cosign(locked, text, new, now)


def _judge(seen_size: int | None, seen_root: str, new: Checkpoint) -> str | None:
    """The reason to refuse `new` without a proof, or None."""
    if seen_size is None:
        return None
    if new.tree_size < seen_size:
        return Reason.ROLLBACK
    if new.tree_size == seen_size and new.root.hex() != seen_root:
        return Reason.FORK
    return None


def _cosign(relation: WitnessRelation, text: str, new: Checkpoint, now: datetime) -> Observation:
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
    relation.save(
        update_fields=[
            "last_size",
            "last_root",
            "last_checkpoint",
            "last_seen_at",
            "last_checked_at",
            "last_error",
        ]
    )
    return Observation(outcome="cosigned", tree_size=new.tree_size, cosignature=cosignature)


def _proof_dict(first: int, second: int, proof: list[bytes]) -> dict:
    return {"first": first, "second": second, "proof": [h.hex() for h in proof]}


def evidence_digest(origin: str, old_checkpoint: str, new_checkpoint: str) -> str:
    value = {"origin": origin, "old": old_checkpoint, "new": new_checkpoint}
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _refuse(
    relation: WitnessRelation,
    text: str,
    new: Checkpoint,
    reason: str,
    proof: list[bytes] | None,
    now: datetime,
) -> Observation:
    relation.last_checked_at = now
    relation.last_error = str(Reason(reason).label)[:300]
    relation.save(update_fields=["last_checked_at", "last_error"])
    digest = evidence_digest(relation.origin, relation.last_checkpoint, text)
    existing = Inconsistency.objects.filter(digest=digest).first()
    if existing is not None:  # the same evidence again: kept and announced once
        return Observation(outcome="refused", tree_size=new.tree_size, inconsistency=existing)
    evidence = Inconsistency.objects.create(
        relation=relation,
        reason=reason,
        old_checkpoint=relation.last_checkpoint,
        new_checkpoint=text,
        proof=None if proof is None else _proof_dict(relation.last_size, new.tree_size, proof),
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
