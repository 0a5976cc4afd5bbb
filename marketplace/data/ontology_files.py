"""Reading ontology files: the classes and properties they define.

Turtle and OWL (RDF/XML, or OWL written in Turtle) are parsed with rdflib; the terms are the
IRIs typed rdfs:Class, owl:Class (classes), rdf:Property, owl:ObjectProperty and
owl:DatatypeProperty (properties), labelled by rdfs:label or skos:prefLabel (French first).
A JSON Schema gives one class for the schema, one per `$defs`/`definitions` entry, and one
property per `properties` entry (nested too), named by JSON Pointer fragments of its `$id`
(or of the namespace).

Nothing is fetched from the network: rdflib parses the text given, and JSON Schema `$ref`s
are not followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef

from .errors import InvalidOntology
from .models import OntologyFormat, TermKind

MAX_TERMS = 20_000
TERM_TYPES = [
    (RDFS.Class, TermKind.CLASS),
    (OWL.Class, TermKind.CLASS),
    (RDF.Property, TermKind.PROPERTY),
    (OWL.ObjectProperty, TermKind.OBJECT_PROPERTY),
    (OWL.DatatypeProperty, TermKind.DATATYPE_PROPERTY),
]
_PRECEDENCE = {
    TermKind.OBJECT_PROPERTY: 3,
    TermKind.DATATYPE_PROPERTY: 3,
    TermKind.CLASS: 2,
    TermKind.PROPERTY: 1,
}


@dataclass(frozen=True)
class Term:
    kind: str
    iri: str
    label: str


def _label(graph: Graph, subject: URIRef) -> str:
    labels = [
        value
        for predicate in (RDFS.label, SKOS.prefLabel)
        for value in graph.objects(subject, predicate)
        if isinstance(value, Literal)
    ]
    for language in ("fr", "en", None):
        for value in labels:
            if value.language == language:
                return str(value)[:300]
    return str(labels[0])[:300] if labels else ""


def _rdf_terms(source: str, rdf_format: str) -> list[Term]:
    graph = Graph()
    try:
        graph.parse(data=source, format=rdf_format)
    except Exception as error:  # noqa: BLE001 - rdflib raises many kinds on bad input
        raise InvalidOntology(
            _("The file does not parse: %(e)s") % {"e": str(error)[:300]}
        ) from None
    terms: dict[str, Term] = {}
    for rdf_type, kind in TERM_TYPES:
        for subject in graph.subjects(RDF.type, rdf_type):
            if not isinstance(subject, URIRef):
                continue
            iri = str(subject)
            known = terms.get(iri)
            if known is None or _PRECEDENCE[kind] > _PRECEDENCE[known.kind]:
                terms[iri] = Term(kind=kind, iri=iri, label=_label(graph, subject))
    return sorted(terms.values(), key=lambda t: (t.kind, t.iri))


def _schema_terms(source: str, namespace: str) -> list[Term]:
    try:
        schema = json.loads(source)
    except ValueError as error:
        raise InvalidOntology(_("The file is not JSON: %(e)s") % {"e": error}) from None
    if not isinstance(schema, dict):
        raise InvalidOntology(_("A JSON Schema is a JSON object."))
    base = schema.get("$id") if isinstance(schema.get("$id"), str) else namespace
    base = base.split("#", 1)[0]
    terms: dict[str, Term] = {}

    def title_of(node: dict, fallback: str) -> str:
        title = node.get("title")
        return str(title)[:300] if isinstance(title, str) else fallback

    def walk(node, pointer: str, name: str) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "object" or "properties" in node or pointer == "":
            # A nested object stays the property it is the value of.
            terms.setdefault(
                f"{base}#{pointer}",
                Term(kind=TermKind.CLASS, iri=f"{base}#{pointer}", label=title_of(node, name)),
            )
        for key in ("$defs", "definitions"):
            definitions = node.get(key)
            if isinstance(definitions, dict):
                for child, value in definitions.items():
                    walk(value, f"{pointer}/{key}/{child}", child)
        properties = node.get("properties")
        if isinstance(properties, dict):
            for child, value in properties.items():
                iri = f"{base}#{pointer}/properties/{child}"
                terms[iri] = Term(
                    kind=TermKind.PROPERTY,
                    iri=iri,
                    label=title_of(value if isinstance(value, dict) else {}, child),
                )
                if isinstance(value, dict) and ("properties" in value):
                    walk(value, f"{pointer}/properties/{child}", child)
        if len(terms) > MAX_TERMS:
            raise InvalidOntology(_("This ontology defines too many terms."))

    walk(schema, "", title_of(schema, "schema"))
    return sorted(terms.values(), key=lambda t: (t.kind, t.iri))


def ontology_terms(source: str, *, format: str, namespace: str) -> list[Term]:
    """The classes and properties the file defines; InvalidOntology when it does not parse
    or defines none."""
    if format == OntologyFormat.TURTLE:
        terms = _rdf_terms(source, "turtle")
    elif format == OntologyFormat.OWL:
        stripped = source.lstrip()
        terms = _rdf_terms(source, "xml" if stripped.startswith("<") else "turtle")
    elif format == OntologyFormat.JSON_SCHEMA:
        terms = _schema_terms(source, namespace)
    else:
        raise InvalidOntology(_("The format is Turtle, OWL or JSON Schema."))
    if not terms:
        raise InvalidOntology(_("This file defines no class and no property."))
    if len(terms) > MAX_TERMS:
        raise InvalidOntology(_("This ontology defines too many terms."))
    if any(len(term.iri) > 500 for term in terms):
        raise InvalidOntology(_("A term's IRI is longer than 500 characters."))
    return terms
