"""The only writers of the data marketplace's state. Each service runs in one database
transaction and writes its signed ledger transaction beside the state it changes.

Part 1 (here): the catalogue, chunked uploads, the ontology registry and curation. Part 2
(contracts, consents, access, billing, wallet) lives in sibling modules.
"""

from .catalogue import (
    DatasetMetadata,
    HostedFile,
    LinkedFile,
    dataset_create,
    dataset_version_add,
    distribution_add,
)
from .ontologies import (
    curation_record,
    curators_college_open,
    field_mapping_propose,
    ontology_submit,
)
from .uploads import upload_abort, upload_chunk, upload_complete, upload_start

__all__ = [
    "DatasetMetadata",
    "HostedFile",
    "LinkedFile",
    "curation_record",
    "curators_college_open",
    "dataset_create",
    "dataset_version_add",
    "distribution_add",
    "field_mapping_propose",
    "ontology_submit",
    "upload_abort",
    "upload_chunk",
    "upload_complete",
    "upload_start",
]
