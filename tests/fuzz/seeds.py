"""What the fuzzer starts from, read from the authorization matrix's world
(`tests/authz/world.py`): the path parameters of real objects and the valid bodies of its
rows, so that schemathesis reaches the code behind the 404 and the 400, and a guess of ids for
the operations no row covers yet (a new API is fuzzed the day it lands, before it has rows).
"""

from __future__ import annotations

import re
from dataclasses import fields

from django.urls import NoReverseMatch, reverse

from tests.authz.matrix import ROWS
from tests.authz.world import World

# The personas the fuzzer signs in as: seven of the authz world's accounts (see
# world.PERSONAS), one of each kind of access.
PERSONAS = (
    "anonymous",
    "resident",
    "provider",
    "staff",
    "curator",
    "operator",
    "foreigner",
)


def tokens(world: World) -> dict[str, str]:
    """Each persona's API token; the anonymous has none."""
    return dict(world.tokens)


def _template_regex(template: str) -> re.Pattern:
    """`/api/v1/x/{slug}/y` -> a regex capturing `slug`."""
    parts = re.split(r"\{([^}]+)\}", template)
    pattern = ""
    for position, part in enumerate(parts):
        pattern += re.escape(part) if position % 2 == 0 else f"(?P<{part}>[^/]+)"
    return re.compile(f"^{pattern}$")


def row_seeds(world: World, templates: list[str]) -> dict[tuple[str, str], list[dict]]:
    """(METHOD, path template) -> the path parameters and JSON bodies of the matrix's API rows
    for it, each `{"path": {...}, "body": {...} | None}`."""
    # The most literal template first: `/claims/mine` is its own route, not `/claims/{id}`.
    ordered = sorted(templates, key=lambda template: template.count("{"))
    regexes = [(template, _template_regex(template)) for template in ordered]
    seeds: dict[tuple[str, str], list[dict]] = {}
    for row in ROWS:
        if not row.api:
            continue
        try:
            url = reverse(row.name, kwargs=row.url_kwargs(world))
        except NoReverseMatch:
            continue
        for template, regex in regexes:
            match = regex.match(url)
            if match is None:
                continue
            body = row.body(world) if row.writes else None
            seed = {"path": match.groupdict(), "body": body}
            bucket = seeds.setdefault((row.method, template), [])
            if seed not in bucket:
                bucket.append(seed)
            break
    return seeds


def known_ids(world: World) -> dict[str, list]:
    """A guess of path parameters by name, for the operations no row covers: the cities'
    slugs (and the network chain's), the first positions of a chain, and the public ids of
    every object of the world."""
    public_ids = []
    for field in fields(world):
        value = getattr(world, field.name)
        public_id = getattr(value, "public_id", None)
        if isinstance(public_id, str) and public_id not in public_ids:
            public_ids.append(public_id)
    slugs = [world.city.slug, world.other_city.slug, "network"]
    return {"slug": slugs, "public_id": public_ids, "index": [0, 1], "height": [0, 1]}
