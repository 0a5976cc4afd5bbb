"""Forms of the data catalogue's pages: they parse and check the shape of what people type
(euros into integer cents, keywords and DIDs one per line, a term as "ontology id + IRI");
the services decide whether it is allowed, and their errors come back as form errors."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.forms import cents_of
from governance.models import College, Membership, MembershipStatus

from ..forms import fee_field, lines_of
from ..models import Provider
from .models import (
    CurationDecision,
    Dataset,
    DatasetStatus,
    Frequency,
    OntologyFormat,
    OntologyTerm,
    PricingModel,
    PublisherKind,
    ReviewStatus,
    TermKind,
    Theme,
)
from .permissions import is_staff_of
from .services.catalogue import FORMATS
from .services.ontologies import MAX_ONTOLOGY_BYTES

# The media type that goes with each EU file-type code, when the producer leaves it empty.
MEDIA_TYPES = {
    "CSV": "text/csv",
    "TSV": "text/tab-separated-values",
    "JSON": "application/json",
    "JSON_LD": "application/ld+json",
    "GEOJSON": "application/geo+json",
    "XML": "application/xml",
    "RDF_XML": "application/rdf+xml",
    "RDF_TURTLE": "text/turtle",
    "PARQUET": "application/vnd.apache.parquet",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ODS": "application/vnd.oasis.opendocument.spreadsheet",
    "ZIP": "application/zip",
    "PDF": "application/pdf",
    "TXT": "text/plain",
    "SHP": "application/x-shapefile",
    "GPKG": "application/geopackage+sqlite3",
    "KML": "application/vnd.google-earth.kml+xml",
    "NETCDF": "application/x-netcdf",
}
FORMAT_CHOICES = [(code, code.replace("_", "-")) for code in FORMATS]
LICENCE_HELP = _(
    "The licence's URI, e.g. https://www.etalab.gouv.fr/licence-ouverte-open-licence/ "
    "(Licence Ouverte 2.0) or https://creativecommons.org/licenses/by/4.0/."
)
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
PERSONAL_CHOICES = [
    ("", _("personal or not")),
    ("no", _("no personal data")),
    ("yes", _("personal data")),
]


def term_value(term: OntologyTerm) -> str:
    """How a term travels in a form: its ontology's public id and its IRI."""
    return f"{term.ontology.public_id} {term.iri}"


def term_label(term: OntologyTerm) -> str:
    label = f"{term.label} ({term.iri})" if term.label else term.iri
    return f"{term.ontology.name} {term.ontology.version}: {label}"


# --- the catalogue's filters ----------------------------------------------------------------


def publisher_choices(city) -> list[tuple[str, str]]:
    """Who publishes in the city's catalogue, by DID (one query)."""
    rows = (
        Dataset.objects.filter(city=city, status=DatasetStatus.PUBLISHED)
        .values_list("publisher_identity__did", "publisher_kind", "publisher_provider__name")
        .distinct()
        .order_by("publisher_kind", "publisher_provider__name", "publisher_identity__did")
    )
    choices: dict[str, str] = {}
    for did, kind, provider_name in rows:
        if kind == PublisherKind.PROVIDER:
            label = provider_name
        elif kind == PublisherKind.MUNICIPALITY:
            label = str(_("the municipality"))
        else:
            label = f"{_('a member')} ({did[:24]}…)"
        choices[did] = label
    return [("", _("all publishers")), *choices.items()]


def ontology_class_choices(city) -> list:
    """The terms that accepted field links of the city's datasets point to, classes first
    (one query)."""
    terms = (
        OntologyTerm.objects.filter(
            mappings__status=ReviewStatus.ACCEPTED,
            mappings__dataset__city=city,
            mappings__dataset__status=DatasetStatus.PUBLISHED,
        )
        .select_related("ontology")
        .distinct()
        .order_by("kind", "ontology__name", "iri")
    )
    classes, properties = [], []
    for term in terms:
        entry = (term.iri, term.label or term.iri)
        (classes if term.kind == TermKind.CLASS else properties).append(entry)
    choices: list = [("", _("any ontology term"))]
    if classes:
        choices.append((_("Classes"), classes))
    if properties:
        choices.append((_("Properties"), properties))
    return choices


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    theme = forms.ChoiceField(
        label=_("Theme"), required=False, choices=[("", _("all themes")), *Theme.choices]
    )
    keyword = forms.CharField(label=_("Keyword"), required=False, max_length=100)
    ontology_class = forms.ChoiceField(label=_("Ontology term"), required=False)
    publisher = forms.ChoiceField(label=_("Publisher"), required=False)
    pricing = forms.ChoiceField(
        label=_("Pricing"),
        required=False,
        choices=[("", _("any pricing")), *PricingModel.choices],
    )
    max_price = fee_field(_("Price at most (€ per unit)"), help_text="")
    personal = forms.ChoiceField(label=_("Personal data"), required=False, choices=PERSONAL_CHOICES)

    def __init__(self, *args, city, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["max_price"].required = False
        self.fields["ontology_class"].choices = ontology_class_choices(city)
        self.fields["publisher"].choices = publisher_choices(city)

    def filters(self) -> dict:
        """The arguments of `dataset_search`; an invalid form filters nothing."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        personal = {"yes": True, "no": False}.get(data.get("personal") or "")
        max_price = data.get("max_price")
        return {
            "q": data.get("q") or None,
            "theme": data.get("theme") or None,
            "keyword": data.get("keyword") or None,
            "ontology_class": data.get("ontology_class") or None,
            "publisher": data.get("publisher") or None,
            "pricing": data.get("pricing") or None,
            "max_price_cents": cents_of(max_price) if max_price is not None else None,
            "personal": personal,
        }


# --- producers ------------------------------------------------------------------------------


def publisher_options(user, city) -> list[tuple[str, str]]:
    """As whom `user` may publish in `city`: their providers, the municipality (staff), or
    themself (an approved member)."""
    if not getattr(user, "is_authenticated", False):
        return []
    options = [
        (f"provider:{provider.public_id}", provider.name)
        for provider in Provider.objects.filter(owner=user).order_by("name")
    ]
    if is_staff_of(user, city):
        options.append((PublisherKind.MUNICIPALITY, str(_("the municipality"))))
    if Membership.objects.filter(city=city, user=user, status=MembershipStatus.APPROVED).exists():
        options.append((PublisherKind.MEMBER, str(_("myself, as a member of the city"))))
    return options


class DatasetForm(forms.Form):
    """A dataset's DCAT-AP 3 description."""

    publisher = forms.ChoiceField(label=_("Published by"))
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    themes = forms.MultipleChoiceField(
        label=_("Themes"), choices=Theme.choices, widget=forms.CheckboxSelectMultiple
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=3100,
        help_text=_("One per line, or separated by commas."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    licence = forms.URLField(
        label=_("Licence"), max_length=500, assume_scheme="https", help_text=LICENCE_HELP
    )
    frequency = forms.ChoiceField(
        label=_("Update frequency"), choices=Frequency.choices, initial=Frequency.UNKNOWN
    )
    temporal_start = forms.DateField(
        label=_("Temporal coverage: start"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    temporal_end = forms.DateField(
        label=_("Temporal coverage: end"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    spatial_uri = forms.URLField(
        label=_("Spatial coverage (URI)"),
        assume_scheme="https",
        required=False,
        max_length=500,
        help_text=_("E.g. the INSEE commune's URI; empty means the city itself."),
    )
    landing_page = forms.URLField(
        label=_("Landing page"), required=False, max_length=500, assume_scheme="https"
    )
    contact_name = forms.CharField(label=_("Contact point: name"), max_length=200)
    contact_email = forms.EmailField(label=_("Contact point: e-mail"), max_length=254)
    is_personal = forms.BooleanField(
        label=_("This dataset holds personal data"),
        required=False,
        help_text=_(
            "Its records then name their data subjects by DID (a subject column), and no "
            "record flows without each resident's consent."
        ),
    )
    subject_college = forms.ChoiceField(
        label=_("The data subjects: members of the college"), required=False
    )
    subject_dids = forms.CharField(
        label=_("The data subjects: DIDs"),
        required=False,
        max_length=200_000,
        help_text=_("One DID per line."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, city, **kwargs):
        super().__init__(*args, **kwargs)
        self.city = city
        options = publisher_options(user, city)
        self.fields["publisher"].choices = options
        if len(options) == 1:
            self.fields["publisher"].initial = options[0][0]
        self.colleges = {
            college.slug: college
            for college in College.objects.filter(city=city).order_by("position", "pk")
        }
        self.fields["subject_college"].choices = [("", _("none"))] + [
            (slug, college.name) for slug, college in self.colleges.items()
        ]

    def clean_keywords(self) -> list[str]:
        text = self.cleaned_data.get("keywords") or ""
        return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]

    def clean_subject_dids(self) -> list[str]:
        return lines_of(self.cleaned_data.get("subject_dids") or "")

    def publisher_chosen(self) -> tuple[str, Provider | None]:
        """(publisher kind, provider) from the choice."""
        value = self.cleaned_data["publisher"]
        if value.startswith("provider:"):
            provider = Provider.objects.filter(public_id=value.split(":", 1)[1]).first()
            return PublisherKind.PROVIDER, provider
        return value, None

    def college_chosen(self) -> College | None:
        return self.colleges.get(self.cleaned_data.get("subject_college") or "")


class VersionForm(forms.Form):
    label = forms.CharField(
        label=_("Version"),
        required=False,
        max_length=32,
        help_text=_("E.g. 2026-03; empty numbers it."),
    )
    notes = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _format_field():
    return forms.ChoiceField(
        label=_("Format"),
        choices=FORMAT_CHOICES,
        help_text=_("The EU file-type code."),
    )


def _media_type_field():
    return forms.CharField(
        label=_("Media type"),
        required=False,
        max_length=100,
        help_text=_("E.g. text/csv; empty takes the format's."),
    )


def _sha256_field(help_text):
    return forms.CharField(
        label=_("SHA-256 (optional)"),
        required=False,
        max_length=64,
        help_text=help_text,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )


class _FileDescriptionForm(forms.Form):
    def clean_media_type(self) -> str:
        return (self.cleaned_data.get("media_type") or "").strip().lower()

    def clean_sha256(self) -> str:
        value = (self.cleaned_data.get("sha256") or "").strip()
        if value and not SHA256.match(value):
            raise forms.ValidationError(_("A SHA-256 is 64 hexadecimal digits."))
        return value.lower()

    def clean(self):
        data = super().clean()
        if not data.get("media_type") and data.get("format"):
            data["media_type"] = MEDIA_TYPES.get(data["format"], "application/octet-stream")
        return data


class UploadForm(_FileDescriptionForm):
    """A hosted file: in chunks with a progress bar (static/js/upload.js), or posted whole
    when JavaScript is off."""

    file = forms.FileField(label=_("File"))
    format = _format_field()
    media_type = _media_type_field()
    title = forms.CharField(label=_("Title of the file"), required=False, max_length=300)
    sha256 = _sha256_field(
        _("If you know it, the platform checks the file against it; it computes it anyway.")
    )


class LinkForm(_FileDescriptionForm):
    """A distribution that stays on the producer's infrastructure."""

    access_url = forms.URLField(label=_("Access URL"), max_length=500, assume_scheme="https")
    format = _format_field()
    media_type = _media_type_field()
    title = forms.CharField(label=_("Title of the file"), required=False, max_length=300)
    byte_size = forms.IntegerField(label=_("Size (bytes)"), required=False, min_value=0)
    sha256 = _sha256_field("")


class MappingForm(forms.Form):
    """A link of one of the dataset's fields to a term of an accepted ontology."""

    field_name = forms.CharField(
        label=_("Field"), max_length=200, help_text=_("The column or property, as in the file.")
    )
    term = forms.ChoiceField(label=_("Ontology term"))

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for term in terms:
            groups.setdefault(f"{term.ontology.name} {term.ontology.version}", []).append(
                (term_value(term), f"{term.label or term.iri} · {term.get_kind_display()}")
            )
        self.fields["term"].choices = [("", _("choose a term")), *groups.items()]

    def term_key(self) -> tuple[str, str]:
        """(ontology public id, term IRI)."""
        ontology, _space, iri = self.cleaned_data["term"].partition(" ")
        return ontology, iri


# --- ontologies and curators ----------------------------------------------------------------


class OntologyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    namespace = forms.URLField(label=_("Namespace IRI"), max_length=500, assume_scheme="https")
    version = forms.CharField(label=_("Version"), max_length=32)
    format = forms.ChoiceField(label=_("Format"), choices=OntologyFormat.choices)
    file = forms.FileField(
        label=_("File"), required=False, help_text=_("Turtle, OWL (RDF/XML) or JSON Schema.")
    )
    source = forms.CharField(
        label=_("Or paste its text"),
        required=False,
        max_length=MAX_ONTOLOGY_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("file") and not (data.get("source") or "").strip():
            raise forms.ValidationError(_("Send the ontology as a file or paste its text."))
        return data

    def content(self) -> str | bytes:
        uploaded = self.cleaned_data.get("file")
        if uploaded is not None:
            return uploaded.read(MAX_ONTOLOGY_BYTES + 1)
        return self.cleaned_data["source"]


class OntologyStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *ReviewStatus.choices]
    )


class CurationForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=CurationDecision.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5000,
        help_text=_("Required to refuse: the producer reads it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        refusing = data.get("decision") == CurationDecision.REFUSE
        if refusing and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why you refuse."))
        return data
