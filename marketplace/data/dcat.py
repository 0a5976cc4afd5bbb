"""The catalogue as DCAT-AP 3 RDF (rdflib): Turtle and JSON-LD.

Every dataset is a dcat:Dataset of the catalogue (the network's, or one city's), with the
distributions of its latest version. A distribution's dcat:accessURL is the platform's page
of its dataset, never the producer's own URL nor the stored file: data is reached through an
agreement only. Publishers are foaf:Agents named by their DID. The export validates against
the DCAT-AP 3.0.0 SHACL shapes (see tests/marketplace_data/test_dcat.py).
"""

from __future__ import annotations

from django.conf import settings
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from governance.models import City

from .models import Dataset, Distribution, DistributionKind, PublisherKind, Theme

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
DCAT_VERSION = URIRef(f"{DCAT}version")  # DCAT 3 (rdflib's DCAT namespace predates it)
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
API_PATH = "/api/v1/marketplace/data/"

JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "vcard": str(VCARD),
    "locn": str(LOCN),
    "xsd": str(XSD),
}


def site() -> str:
    return settings.SMARTB_SITE_URL.rstrip("/")


def dataset_uri(dataset: Dataset) -> URIRef:
    return URIRef(f"{site()}{API_PATH}datasets/{dataset.public_id}")


def distribution_uri(distribution: Distribution) -> URIRef:
    return URIRef(f"{site()}{API_PATH}distributions/{distribution.public_id}")


def catalogue_uri(city: City | None) -> URIRef:
    suffix = f"?city={city.slug}" if city is not None else ""
    return URIRef(f"{site()}{API_PATH}catalogue{suffix}")


def _bind(graph: Graph) -> None:
    for prefix, namespace in JSONLD_CONTEXT.items():
        graph.bind(prefix, Namespace(namespace))


def _publisher(graph: Graph, dataset: Dataset) -> URIRef:
    agent = URIRef(dataset.publisher_identity.did)
    if dataset.publisher_kind == PublisherKind.PROVIDER:
        name = dataset.publisher_provider.name
    elif dataset.publisher_kind == PublisherKind.MUNICIPALITY:
        name = dataset.city.name
    else:
        name = dataset.publisher_identity.did  # a member is named by their DID only
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(name)))
    return agent


def _concept(graph: Graph, uri: str, label: str) -> URIRef:
    concept = URIRef(uri)
    graph.add((concept, RDF.type, SKOS.Concept))
    graph.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
    return concept


def _contact(graph: Graph, dataset: Dataset) -> BNode:
    contact = BNode()
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(dataset.contact_name)))
    graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
    return contact


def _temporal(graph: Graph, dataset: Dataset) -> BNode | None:
    if dataset.temporal_start is None and dataset.temporal_end is None:
        return None
    period = BNode()
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    if dataset.temporal_start:
        graph.add((period, DCAT.startDate, Literal(dataset.temporal_start, datatype=XSD.date)))
    if dataset.temporal_end:
        graph.add((period, DCAT.endDate, Literal(dataset.temporal_end, datatype=XSD.date)))
    return period


def _spatial(graph: Graph, dataset: Dataset):
    if dataset.spatial_uri:
        location = URIRef(dataset.spatial_uri)
    else:
        location = BNode()
        graph.add((location, SKOS.prefLabel, Literal(dataset.city.name)))  # the city itself
    graph.add((location, RDF.type, DCTERMS.Location))
    if dataset.spatial_geometry:
        geometry = BNode()
        graph.add((geometry, RDF.type, LOCN.Geometry))
        graph.add((geometry, GSP.asWKT, Literal(dataset.spatial_geometry, datatype=GSP.wktLiteral)))
        graph.add((location, LOCN.geometry, geometry))
    return location


def _distribution(graph: Graph, dataset: Dataset, distribution: Distribution) -> URIRef:
    node = distribution_uri(distribution)
    graph.add((node, RDF.type, DCAT.Distribution))
    access = dataset_uri(dataset)
    graph.add((access, RDF.type, RDFS.Resource))
    graph.add((node, DCAT.accessURL, access))
    if distribution.title:
        graph.add((node, DCTERMS.title, Literal(distribution.title)))
    file_type = URIRef(f"{EU}file-type/{distribution.format}")
    graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
    graph.add((node, DCTERMS.format, file_type))
    media_type = URIRef(f"{IANA}{distribution.media_type}")
    graph.add((media_type, RDF.type, DCTERMS.MediaType))
    graph.add((node, DCAT.mediaType, media_type))
    if distribution.byte_size is not None:
        graph.add(
            (
                node,
                DCAT.byteSize,
                Literal(distribution.byte_size, datatype=XSD.nonNegativeInteger),
            )
        )
    if distribution.sha256:
        checksum = BNode()
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add(
            (checksum, SPDX.checksumValue, Literal(distribution.sha256, datatype=XSD.hexBinary))
        )
        graph.add((node, SPDX.checksum, checksum))
    graph.add((node, DCTERMS.license, _licence(graph, dataset)))
    graph.add((node, DCTERMS.identifier, Literal(distribution.public_id)))
    if distribution.kind == DistributionKind.HOSTED:
        graph.add((node, DCTERMS.description, Literal("Hosted by SMART B, encrypted at rest.")))
    return node


def _licence(graph: Graph, dataset: Dataset) -> URIRef:
    licence = URIRef(dataset.licence)
    graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
    return licence


def _dataset(graph: Graph, dataset: Dataset) -> URIRef:
    node = dataset_uri(dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset.public_id)))
    graph.add((node, DCTERMS.title, Literal(dataset.title)))
    graph.add((node, DCTERMS.description, Literal(dataset.description)))
    graph.add((node, DCTERMS.publisher, _publisher(graph, dataset)))
    graph.add((node, DCAT.contactPoint, _contact(graph, dataset)))
    graph.add((node, DCTERMS.issued, Literal(dataset.created_at, datatype=XSD.dateTime)))
    graph.add((node, DCTERMS.modified, Literal(dataset.modified_at, datatype=XSD.dateTime)))
    for theme in dataset.themes.all():
        graph.add(
            (
                node,
                DCAT.theme,
                _concept(graph, f"{EU}data-theme/{theme.code}", str(Theme(theme.code).label)),
            )
        )
    for keyword in dataset.keywords.all():
        graph.add((node, DCAT.keyword, Literal(keyword.keyword)))
    frequency = URIRef(f"{EU}frequency/{dataset.frequency}")
    graph.add((frequency, RDF.type, DCTERMS.Frequency))
    graph.add((node, DCTERMS.accrualPeriodicity, frequency))
    period = _temporal(graph, dataset)
    if period is not None:
        graph.add((node, DCTERMS.temporal, period))
    graph.add((node, DCTERMS.spatial, _spatial(graph, dataset)))
    if dataset.landing_page:
        page = URIRef(dataset.landing_page)
        graph.add((page, RDF.type, FOAF.Document))
        graph.add((node, DCAT.landingPage, page))
    if dataset.is_personal:
        rights = URIRef(f"{EU}access-right/NON_PUBLIC")
    else:
        rights = URIRef(f"{EU}access-right/RESTRICTED")
    graph.add((rights, RDF.type, DCTERMS.RightsStatement))
    graph.add((node, DCTERMS.accessRights, rights))
    versions = list(dataset.versions.all())
    if versions:
        latest = versions[0]
        graph.add((node, DCAT_VERSION, Literal(latest.label)))
        for distribution in latest.distributions.all():
            graph.add((node, DCAT.distribution, _distribution(graph, dataset, distribution)))
    return node


def catalogue_graph(datasets: list[Dataset], *, city: City | None = None) -> Graph:
    """The DCAT-AP 3 graph of a catalogue: `datasets` come from
    `selectors.catalogue_datasets` (everything prefetched)."""
    graph = Graph()
    _bind(graph)
    catalogue = catalogue_uri(city)
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    if city is not None:
        title = f"SMART B — {city.name}"
        description = f"The data catalogue of {city.name} on the SMART B network."
    else:
        title = "SMART B"
        description = "The data catalogue of the SMART B network of smart cities."
    graph.add((catalogue, DCTERMS.title, Literal(title, lang="en")))
    graph.add((catalogue, DCTERMS.description, Literal(description, lang="en")))
    operator = URIRef(site())
    graph.add((operator, RDF.type, FOAF.Agent))
    graph.add((operator, FOAF.name, Literal("SMART B")))
    graph.add((catalogue, DCTERMS.publisher, operator))
    homepage = URIRef(f"{site()}/")
    graph.add((homepage, RDF.type, FOAF.Document))
    graph.add((catalogue, FOAF.homepage, homepage))
    for dataset in datasets:
        graph.add((catalogue, DCAT.dataset, _dataset(graph, dataset)))
    return graph


def catalogue_turtle(datasets: list[Dataset], *, city: City | None = None) -> str:
    return catalogue_graph(datasets, city=city).serialize(format="turtle")


def catalogue_jsonld(datasets: list[Dataset], *, city: City | None = None) -> str:
    return catalogue_graph(datasets, city=city).serialize(
        format="json-ld", context=JSONLD_CONTEXT, auto_compact=True
    )
