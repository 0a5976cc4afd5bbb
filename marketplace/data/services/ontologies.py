"""The ontology registry, producers' links of dataset fields to ontology terms, and the
curators who accept or refuse both.

Curators are the approved members of the city's curators college (kind "other", slug
"curators"; `curators_college_open`). A pending ontology or link is decided by a majority of
`SMARTB_CURATION_QUORUM` curator decisions (default 1): the first side to reach
⌊N/2⌋ + 1 decisions wins; a refusal always says why. Once decided, every curator who decided
like the outcome earns `SMARTB_CURATION_REWARD_CENTS` (default 500) as an app-store bounty
(`marketplace.Task`, kind curate_dataset, paid by the city): created by the city, claimed and
completed by the curator, then settled by the city's staff with `task_pay` (owed until an
executed fund_project pays it).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.actions import platform_signer
from governance.models import City, College, CollegeKind
from identity.models import User
from ledger.services import ledger_append

from ...models import TaskKind, TaskPayer
from ...services.bounties import task_claimed, task_completed, task_created_payload, task_new
from ..errors import (
    AlreadyCurated,
    InvalidInput,
    InvalidOntology,
    NotAllowed,
    NotCurator,
    WrongState,
)
from ..models import (
    Curation,
    CurationDecision,
    Dataset,
    FieldMapping,
    Ontology,
    OntologyFormat,
    OntologyTerm,
    ReviewStatus,
)
from ..ontology_files import ontology_terms
from ..permissions import (
    CURATORS_SLUG,
    can_curate_mapping,
    can_curate_ontology,
    can_manage_dataset,
    can_open_curators_college,
    can_submit_ontology,
    curator_membership,
)
from ._common import (
    clean_text,
    clean_url,
    dataset_signer,
    setting_int,
    sha256_json,
    sha256_text,
    signer_of,
)

MAX_ONTOLOGY_BYTES = 5 * 1024 * 1024
VERSION_MAX = 32


def curation_quorum() -> int:
    return max(1, setting_int("SMARTB_CURATION_QUORUM", 1))


def curation_reward_cents() -> int:
    return max(0, setting_int("SMARTB_CURATION_REWARD_CENTS", 500))


@transaction.atomic
def curators_college_open(*, by: User, city: City) -> College:
    """Open the city's curators college (kind "other", slug "curators"), once; members join
    it by request and staff approval like any college. Signed by the staff member."""
    if not can_open_curators_college(by, city):
        raise NotAllowed(_("Only this city's municipality staff open its curators college."))
    if College.objects.filter(city=city, slug=CURATORS_SLUG).exists():
        raise WrongState(_("This city already has its curators college."))
    position = city.colleges.count()
    college = College.objects.create(
        city=city, slug=CURATORS_SLUG, name="Curators", kind=CollegeKind.OTHER, position=position
    )
    ledger_append(
        chain=city.chain,
        actor=signer_of(by),
        kind="marketplace.curators.open",
        payload={"city": city.slug, "college": college.slug},
    )
    return college


@transaction.atomic
def ontology_submit(
    *,
    by: User,
    city: City,
    name: str,
    namespace: str,
    version: str,
    format: str,
    source: str | bytes,
) -> Ontology:
    """Submit an ontology file to the city's registry: its classes and properties are listed
    from the file, and it waits for the curators. Signed by the submitter; the ledger holds
    the file's SHA-256 and the metadata's digest."""
    if not can_submit_ontology(by, city):
        raise NotAllowed(_("Only an approved member of the city submits an ontology."))
    if format not in OntologyFormat.values:
        raise InvalidInput(_("The format is Turtle, OWL or JSON Schema."))
    if isinstance(source, bytes):
        if len(source) > MAX_ONTOLOGY_BYTES:
            raise InvalidOntology(_("An ontology file is at most 5 MB."))
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidOntology(_("An ontology file is UTF-8 text.")) from None
    if not isinstance(source, str) or not source.strip():
        raise InvalidOntology(_("The ontology file is empty."))
    if len(source.encode()) > MAX_ONTOLOGY_BYTES:
        raise InvalidOntology(_("An ontology file is at most 5 MB."))
    name = clean_text(name, what=_("The name"), max_length=200)
    namespace = clean_url(namespace, what=_("The namespace IRI"))
    version = clean_text(version, what=_("The version"), max_length=VERSION_MAX)
    terms = ontology_terms(source, format=format, namespace=namespace)
    if Ontology.objects.filter(
        namespace=namespace,
        version=version,
        status__in=[ReviewStatus.PENDING, ReviewStatus.ACCEPTED],
    ).exists():
        raise WrongState(_("This version of this namespace is already in the registry."))
    signer = signer_of(by)
    ontology = Ontology(
        city=city,
        name=name,
        namespace=namespace,
        version=version,
        format=format,
        source=source,
        sha256=sha256_text(source),
        submitted_by=by,
        submitter_identity=signer,
    )
    ontology.entry = ledger_append(
        chain=city.chain,
        actor=signer,
        kind="marketplace.ontology.submit",
        payload={
            "ontology": ontology.public_id,
            "city": city.slug,
            "format": format,
            "sha256": ontology.sha256,
            "metadata": sha256_json({"name": name, "namespace": namespace, "version": version}),
            "terms": len(terms),
        },
    )
    try:
        with transaction.atomic():
            ontology.save()
    except IntegrityError:
        raise WrongState(_("This version of this namespace is already in the registry.")) from None
    OntologyTerm.objects.bulk_create(
        OntologyTerm(ontology=ontology, kind=t.kind, iri=t.iri, label=t.label) for t in terms
    )
    return ontology


@transaction.atomic
def field_mapping_propose(
    *, by: User, dataset: Dataset, field_name: str, term: OntologyTerm
) -> FieldMapping:
    """Link a field of the dataset to a term of an accepted ontology; the link waits for the
    curators of the dataset's city."""
    if not can_manage_dataset(by, dataset):
        raise NotAllowed(_("Only the dataset's publisher links its fields."))
    if term.ontology.status != ReviewStatus.ACCEPTED:
        raise WrongState(_("Link fields only to terms of an accepted ontology."))
    field_name = clean_text(field_name, what=_("The field"), max_length=200)
    if FieldMapping.objects.filter(
        dataset=dataset,
        field_name=field_name,
        term=term,
        status__in=[ReviewStatus.PENDING, ReviewStatus.ACCEPTED],
    ).exists():
        raise WrongState(_("This field is already linked to this term."))
    mapping = FieldMapping(dataset=dataset, field_name=field_name, term=term, proposed_by=by)
    mapping.entry = ledger_append(
        chain=dataset.city.chain,
        actor=dataset_signer(dataset, by),
        kind="marketplace.mapping.propose",
        payload={
            "mapping": mapping.public_id,
            "dataset": dataset.public_id,
            "field": sha256_text(field_name),
            "ontology": term.ontology.public_id,
            "term": sha256_text(term.iri),
        },
    )
    mapping.save()
    return mapping


def _reward(curation: Curation, *, city: City, what: str) -> None:
    """Pay the curator through a bounty of the city: created by the city (its DID signs),
    claimed and completed by the curator; the city's staff settle it (`task_pay`)."""
    cents = curation_reward_cents()
    curation.reward_cents = cents
    if cents == 0:
        curation.save(update_fields=["reward_cents"])
        return
    task = task_new(
        by=city.identity.user,
        kind=TaskKind.CURATE_DATASET,
        title=what,
        reward_cents=cents,
        payer=TaskPayer.CITY,
        city=city,
        work=curation,
    )
    ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="marketplace.task.create",
        payload=task_created_payload(task, curation),
    )
    task_claimed(task, by=curation.curator.user)
    task_completed(task, result=curation.public_id)
    curation.task = task
    curation.save(update_fields=["reward_cents", "task"])


def _decide(subject, *, city: City, kind: str, what: str) -> None:
    """Close `subject` (an Ontology or a FieldMapping, locked) once a side has a majority of
    the quorum, and reward the curators who decided like the outcome."""
    curations = list(subject.curations.select_related("curator__user").order_by("pk"))
    needed = curation_quorum() // 2 + 1
    accepts = [c for c in curations if c.decision == CurationDecision.ACCEPT]
    refuses = [c for c in curations if c.decision == CurationDecision.REFUSE]
    if len(accepts) >= needed:
        subject.status, winners = ReviewStatus.ACCEPTED, accepts
    elif len(refuses) >= needed:
        subject.status, winners = ReviewStatus.REFUSED, refuses
        subject.reason = "\n".join(c.reason for c in refuses)[:5000]
    else:
        return
    subject.decided_at = timezone.now()
    subject.decision_entry = ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind=kind,
        payload={
            "object": subject.public_id,
            "status": subject.status,
            "accepts": len(accepts),
            "refuses": len(refuses),
            "curations": [c.public_id for c in winners],
        },
    )
    subject.save(update_fields=["status", "reason", "decided_at", "decision_entry"])
    for curation in winners:
        _reward(curation, city=city, what=what)


@transaction.atomic
def curation_record(
    *,
    by: User,
    decision: str,
    reason: str = "",
    ontology: Ontology | None = None,
    mapping: FieldMapping | None = None,
) -> Curation:
    """A curator accepts or refuses (saying why) a pending ontology or field link, signed on
    the city's chain. When a side reaches the majority of the quorum, the object is decided
    and the curators on the winning side are rewarded."""
    if (ontology is None) == (mapping is None):
        raise InvalidInput(_("Curate one ontology or one field link."))
    if decision not in CurationDecision.values:
        raise InvalidInput(_("Accept or refuse."))
    reason = clean_text(
        reason,
        what=_("The reason"),
        max_length=5000,
        required=decision == CurationDecision.REFUSE,
    )
    if ontology is not None:
        subject = (
            Ontology.objects.select_for_update(of=("self",))
            .select_related("city__chain")
            .get(pk=ontology.pk)
        )
        city = subject.city
        allowed = can_curate_ontology(by, subject)
        ref = f"ontology:{subject.public_id}"
        decide_kind, what = "marketplace.ontology.decide", "Curate an ontology"
    else:
        subject = (
            FieldMapping.objects.select_for_update(of=("self",))
            .select_related(
                "dataset__city__chain",
                "dataset__publisher_provider",
                "dataset__publisher_membership",
            )
            .get(pk=mapping.pk)
        )
        city = subject.dataset.city
        allowed = can_curate_mapping(by, subject)
        ref = f"mapping:{subject.public_id}"
        decide_kind, what = "marketplace.mapping.decide", "Curate a dataset field link"
    membership = curator_membership(by, city)
    if membership is None:
        raise NotCurator()
    if not allowed:
        raise NotAllowed(_("A curator never decides on what they submitted or publish."))
    if subject.status != ReviewStatus.PENDING:
        raise WrongState(_("This was already decided."))
    if subject.curations.filter(curator=membership).exists():
        raise AlreadyCurated()
    curation = Curation(
        curator=membership,
        ontology=subject if ontology is not None else None,
        mapping=subject if mapping is not None else None,
        decision=decision,
        reason=reason,
    )
    curation.entry = ledger_append(
        chain=city.chain,
        actor=platform_signer(membership.identity),
        kind="marketplace.curation.record",
        payload={
            "curation": curation.public_id,
            "object": ref,
            "decision": decision,
            "reason": sha256_text(reason) if reason else None,
        },
    )
    curation.save()
    _decide(subject, city=city, kind=decide_kind, what=what)
    curation.refresh_from_db(fields=["reward_cents", "task"])
    return curation
