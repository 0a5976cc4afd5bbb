"""Ontology files the registry tests submit (Turtle, OWL in RDF/XML, JSON Schema)."""

from __future__ import annotations

import json

AIR_TTL = """\
@prefix air: <https://vocab.smartb.example.org/air#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

air:Station a owl:Class ; rdfs:label "Station de mesure"@fr, "Monitoring station"@en .
air:Measurement a rdfs:Class ; rdfs:label "Mesure"@fr .
air:station a owl:ObjectProperty ; rdfs:domain air:Measurement ; rdfs:range air:Station .
air:pm10 a owl:DatatypeProperty ; rdfs:label "PM10 (µg/m³)"@fr ; rdfs:range xsd:decimal .
air:note a rdf:Property .
_:anonymous a owl:Class .
"""

ENERGY_OWL = """\
<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Class rdf:about="https://vocab.smartb.example.org/energy#Meter">
    <rdfs:label xml:lang="en">Meter</rdfs:label>
  </owl:Class>
  <owl:DatatypeProperty rdf:about="https://vocab.smartb.example.org/energy#kwh"/>
</rdf:RDF>
"""

PARKING_SCHEMA = json.dumps(
    {
        "$id": "https://vocab.smartb.example.org/parking.schema.json",
        "title": "Parking",
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Nom"},
            "free": {"type": "integer"},
            "address": {"type": "object", "properties": {"street": {"type": "string"}}},
        },
        "$defs": {"Spot": {"type": "object", "properties": {"number": {"type": "integer"}}}},
    }
)
