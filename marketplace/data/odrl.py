"""ODRL 2.2 usage policies: a small validator, the limits a policy sets, and the JSON-LD
export of offers and agreements.

A producer writes the rules of an offer as ODRL does, without the JSON-LD envelope:

    {"permission": [{"action": "read",
                     "constraint": [{"leftOperand": "purpose", "operator": "isAnyOf",
                                     "rightOperand": ["research", "urban-planning"]},
                                    {"leftOperand": "count", "operator": "lteq",
                                     "rightOperand": 100},
                                    {"leftOperand": "elapsedTime", "operator": "lteq",
                                     "rightOperand": "P90D"}],
                     "duty": [{"action": "delete",
                               "constraint": [{"leftOperand": "delayPeriod",
                                               "operator": "eq", "rightOperand": "P30D"}]}]}],
     "prohibition": [{"action": "distribute"}]}

Actions are ODRL's common vocabulary (`read`, `aggregate`, `derive`, `use`, `distribute`…)
or this platform's profile (`smartb:trainModel`, written with its prefix or as a full IRI).
Left operands: `purpose` (tokens), `dateTime` (ISO 8601 with a time zone), `count` (requests),
`elapsedTime` and `delayPeriod` (ISO 8601 durations in days or weeks: `P30D`, `P2W`), and the
profile's `smartb:records` and `smartb:bytes` (volumes, whole numbers). The price is not
written in the policy: the offer's pricing fields make its `compensate` duty on export.

`policy_validate` returns a normalised copy (profile terms as `smartb:` names) or raises
`InvalidPolicy` naming the first faulty place (`permission[0].constraint[1].rightOperand`).
`policy_limits` reads what the platform enforces: requests, records, bytes, duration, end
date, purposes and the delete-after duty. The exports put the rules in an `odrl:Offer` or
`odrl:Agreement` with `@context` http://www.w3.org/ns/odrl.jsonld, a `uid`, the assigner's
(and assignee's) DID and the dataset as target; profile terms leave as full IRIs, so the
standard context is the only one a reader needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.errors import MarketplaceError

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
PROFILE = "https://smartb.fr/ns/odrl"
PROFILE_NS = PROFILE + "#"
PREFIX = "smartb:"

# Actions a permission or a prohibition may name (ODRL 2.2 common vocabulary, and the profile).
USAGE_ACTIONS = frozenset(
    {
        "use",
        "read",
        "aggregate",
        "derive",
        "annotate",
        "anonymize",
        "archive",
        "concurrentUse",
        "display",
        "distribute",
        "execute",
        "extract",
        "index",
        "modify",
        "present",
        "print",
        "reproduce",
        "sell",
        "textToSpeech",
        "transfer",
        "transform",
        "translate",
        "smartb:trainModel",
    }
)
# Actions a duty may name.
DUTY_ACTIONS = frozenset(
    {"compensate", "delete", "inform", "attribute", "anonymize", "obtainConsent"}
)
# What the platform's own actions mean to a resident asked for consent.
PROCESSING_ACTIONS = ("read", "aggregate", "derive", "smartb:trainModel", "use")

OPERATORS = frozenset(
    {"eq", "neq", "lt", "lteq", "gt", "gteq", "isA", "isAnyOf", "isNoneOf", "isAllOf", "isPartOf"}
)
_ORDERED = frozenset({"eq", "lt", "lteq", "gt", "gteq"})
_UPPER = frozenset({"eq", "lt", "lteq"})
_SET = frozenset({"eq", "isA", "isAnyOf", "isNoneOf", "isAllOf", "isPartOf"})

INTEGER_OPERANDS = frozenset({"count", "smartb:records", "smartb:bytes"})
DURATION_OPERANDS = frozenset({"elapsedTime", "delayPeriod"})
LEFT_OPERANDS = INTEGER_OPERANDS | DURATION_OPERANDS | {"purpose", "dateTime"}

# \Z, not $: "$" also matches before a final newline ("P30D\n" is no duration).
_TOKEN = re.compile(r"^[A-Za-z0-9_.:\-/#]{1,120}\Z")
_DURATION = re.compile(r"^P(?:([0-9]{1,5})D|([0-9]{1,4})W)\Z")
_RULE_KEYS = {"action", "constraint", "duty", "uid", "target", "assigner", "assignee"}
_CONSTRAINT_KEYS = {"leftOperand", "operator", "rightOperand", "unit", "uid"}
_ENVELOPE_KEYS = {"@context", "@type", "uid", "profile", "assigner", "assignee", "target"}
MAX_RULES = 50
MAX_INTEGER = 10**15


class InvalidPolicy(MarketplaceError):
    code = "invalid_policy"
    status = 400
    default_message = gettext_lazy("This ODRL policy is not valid.")


def _refuse(path: str, message: str):
    raise InvalidPolicy(f"{path}: {message}")


def _profile_term(value: Any, path: str) -> str:
    """`smartb:x`, the profile's IRI of x, or a plain ODRL term (also `odrl:x` or its IRI)."""
    if not isinstance(value, str) or not value:
        _refuse(path, _("a term (text) is expected"))
    if value.startswith(PROFILE_NS):
        return PREFIX + value[len(PROFILE_NS) :]
    for odrl in ("odrl:", "http://www.w3.org/ns/odrl/2/"):
        if value.startswith(odrl):
            return value[len(odrl) :]
    return value


def parse_days(value: Any, path: str) -> int:
    """An ISO 8601 duration in whole days or weeks (`P30D`, `P2W`), as days."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        _refuse(path, _("an ISO 8601 duration in days or weeks is expected, e.g. P30D or P2W"))
    days, weeks = match.groups()
    return int(days) if days is not None else 7 * int(weeks)


def parse_datetime(value: Any, path: str) -> datetime:
    raw = value.get("@value") if isinstance(value, dict) else value
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        _refuse(path, _("an ISO 8601 date and time with a time zone is expected"))
    return moment


def _integer(value: Any, path: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INTEGER:
        _refuse(path, _("a whole, non-negative number is expected"))
    return value


def _tokens(value: Any, path: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 20:
        _refuse(path, _("one to twenty purposes are expected"))
    for position, item in enumerate(items):
        if not isinstance(item, str) or not _TOKEN.match(item):
            _refuse(
                f"{path}[{position}]",
                _("a purpose is an identifier or an IRI (letters, digits, . _ : - / #)"),
            )
    return list(items)


def _constraint(raw: Any, path: str) -> dict:
    if not isinstance(raw, dict):
        _refuse(path, _("a constraint is an object"))
    unknown = set(raw) - _CONSTRAINT_KEYS
    if unknown:
        _refuse(path, _("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))})
    for key in ("leftOperand", "operator", "rightOperand"):
        if key not in raw:
            _refuse(path, _("%(key)s is required") % {"key": key})
    left = _profile_term(raw["leftOperand"], f"{path}.leftOperand")
    if left == "payAmount":
        _refuse(f"{path}.leftOperand", _("the price is set by the offer's pricing, not here"))
    if left not in LEFT_OPERANDS:
        _refuse(
            f"{path}.leftOperand",
            _("unknown left operand %(term)s; known: %(known)s")
            % {"term": left, "known": ", ".join(sorted(LEFT_OPERANDS))},
        )
    operator = _profile_term(raw["operator"], f"{path}.operator")
    if operator not in OPERATORS:
        _refuse(f"{path}.operator", _("unknown operator %(term)s") % {"term": operator})
    right_path = f"{path}.rightOperand"
    right = raw["rightOperand"]
    if left in INTEGER_OPERANDS:
        if operator not in _ORDERED:
            _refuse(f"{path}.operator", _("a number is compared with eq, lt, lteq, gt or gteq"))
        right = _integer(right, right_path)
    elif left in DURATION_OPERANDS:
        if operator not in _ORDERED:
            _refuse(f"{path}.operator", _("a duration is compared with eq, lt, lteq, gt or gteq"))
        parse_days(right, right_path)
    elif left == "dateTime":
        if operator not in _ORDERED:
            _refuse(f"{path}.operator", _("a date is compared with eq, lt, lteq, gt or gteq"))
        right = parse_datetime(right, right_path).isoformat()
    else:  # purpose
        if operator not in _SET | {"neq"}:
            _refuse(f"{path}.operator", _("a purpose is matched with eq, isAnyOf, isNoneOf…"))
        right = _tokens(right, right_path)
        if operator in ("eq", "neq", "isA") and len(right) == 1:
            right = right[0]
    clean = {"leftOperand": left, "operator": operator, "rightOperand": right}
    if "unit" in raw:
        if not isinstance(raw["unit"], str) or not _TOKEN.match(raw["unit"]):
            _refuse(f"{path}.unit", _("a unit is an IRI"))
        clean["unit"] = raw["unit"]
    return clean


def _rule(raw: Any, path: str, *, actions: frozenset[str], duties: bool) -> dict:
    if not isinstance(raw, dict):
        _refuse(path, _("a rule is an object"))
    allowed = _RULE_KEYS if duties else _RULE_KEYS - {"duty"}
    unknown = set(raw) - allowed
    if unknown:
        _refuse(path, _("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))})
    if "action" not in raw:
        _refuse(path, _("action is required"))
    action = _profile_term(raw["action"], f"{path}.action")
    if action not in actions:
        _refuse(
            f"{path}.action",
            _("unknown action %(term)s; known: %(known)s")
            % {"term": action, "known": ", ".join(sorted(actions))},
        )
    clean: dict[str, Any] = {"action": action}
    constraints = raw.get("constraint", [])
    if not isinstance(constraints, list) or len(constraints) > MAX_RULES:
        _refuse(f"{path}.constraint", _("a list of constraints is expected"))
    if constraints:
        clean["constraint"] = [
            _constraint(item, f"{path}.constraint[{n}]") for n, item in enumerate(constraints)
        ]
    if duties and "duty" in raw:
        items = raw["duty"]
        if not isinstance(items, list) or len(items) > MAX_RULES:
            _refuse(f"{path}.duty", _("a list of duties is expected"))
        if items:  # no duty is no key, as for constraints: the export parses back the same
            clean["duty"] = [
                _rule(item, f"{path}.duty[{n}]", actions=DUTY_ACTIONS, duties=False)
                for n, item in enumerate(items)
            ]
    return clean


def policy_validate(policy: Any) -> dict:
    """A normalised copy of `policy` (see the module's docstring), or `InvalidPolicy`."""
    if not isinstance(policy, dict):
        _refuse("$", _("a policy is a JSON object"))
    unknown = set(policy) - {"permission", "prohibition", "obligation"} - _ENVELOPE_KEYS
    if unknown:
        _refuse("$", _("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown))})
    permissions = policy.get("permission")
    if not isinstance(permissions, list) or not permissions:
        _refuse("permission", _("at least one permission is required"))
    clean: dict[str, list] = {}
    for key, actions, duties in (
        ("permission", USAGE_ACTIONS, True),
        ("prohibition", USAGE_ACTIONS, False),
        ("obligation", DUTY_ACTIONS, False),
    ):
        items = policy.get(key, [])
        if not isinstance(items, list) or len(items) > MAX_RULES:
            _refuse(key, _("a list of rules is expected"))
        if items:
            clean[key] = [
                _rule(item, f"{key}[{n}]", actions=actions, duties=duties)
                for n, item in enumerate(items)
            ]
    permitted = {rule["action"] for rule in clean["permission"]}
    prohibited = {rule["action"] for rule in clean.get("prohibition", [])}
    if permitted & prohibited:
        _refuse(
            "prohibition",
            _("an action cannot be both permitted and prohibited: %(actions)s")
            % {"actions": ", ".join(sorted(permitted & prohibited))},
        )
    return clean


@dataclass
class PolicyLimits:
    """What the platform enforces from a policy: the tightest bound of any permission."""

    max_requests: int | None = None
    max_records: int | None = None
    max_bytes: int | None = None
    duration_days: int | None = None
    not_after: datetime | None = None
    not_before: datetime | None = None
    purposes: list[str] = field(default_factory=list)
    excluded_purposes: list[str] = field(default_factory=list)
    delete_after_days: int | None = None
    actions: list[str] = field(default_factory=list)
    prohibited: list[str] = field(default_factory=list)


def _upper(value: int, operator: str) -> int | None:
    if operator in _UPPER:
        return value - 1 if operator == "lt" else value
    return None


def _tightest(current: int | None, value: int | None) -> int | None:
    if value is None:
        return current
    return value if current is None else min(current, value)


def policy_limits(policy: dict) -> PolicyLimits:
    """The limits of a validated policy (`policy_validate`'s output)."""
    limits = PolicyLimits()
    for rule in policy.get("permission", []):
        limits.actions.append(rule["action"])
        for c in rule.get("constraint", []):
            left, operator, right = c["leftOperand"], c["operator"], c["rightOperand"]
            if left == "count":
                limits.max_requests = _tightest(limits.max_requests, _upper(right, operator))
            elif left == "smartb:records":
                limits.max_records = _tightest(limits.max_records, _upper(right, operator))
            elif left == "smartb:bytes":
                limits.max_bytes = _tightest(limits.max_bytes, _upper(right, operator))
            elif left == "elapsedTime" and operator in _UPPER:
                days = parse_days(right, left)
                limits.duration_days = _tightest(limits.duration_days, days)
            elif left == "dateTime":
                moment = datetime.fromisoformat(right)
                if operator in _UPPER and (limits.not_after is None or moment < limits.not_after):
                    limits.not_after = moment
                if operator in ("gt", "gteq") and (
                    limits.not_before is None or moment > limits.not_before
                ):
                    limits.not_before = moment
            elif left == "purpose":
                values = right if isinstance(right, list) else [right]
                if operator in ("neq", "isNoneOf"):
                    limits.excluded_purposes.extend(v for v in values if v not in limits.purposes)
                else:
                    limits.purposes.extend(v for v in values if v not in limits.purposes)
        for duty in rule.get("duty", []):
            if duty["action"] != "delete":
                continue
            for c in duty.get("constraint", []):
                if c["leftOperand"] in DURATION_OPERANDS:
                    days = parse_days(c["rightOperand"], c["leftOperand"])
                    limits.delete_after_days = _tightest(limits.delete_after_days, days)
    limits.prohibited = [rule["action"] for rule in policy.get("prohibition", [])]
    return limits


# --- JSON-LD export --------------------------------------------------------------------------


def _iri(term: str) -> str:
    """Profile terms as full IRIs, so the ODRL context alone expands the document."""
    return PROFILE_NS + term[len(PREFIX) :] if term.startswith(PREFIX) else term


def _export_rule(rule: dict, *, common: dict) -> dict:
    out: dict[str, Any] = {**common, "action": _iri(rule["action"])}
    if rule.get("constraint"):
        out["constraint"] = [
            {**c, "leftOperand": _iri(c["leftOperand"])} for c in rule["constraint"]
        ]
    if rule.get("duty"):
        out["duty"] = [_export_rule(d, common={}) for d in rule["duty"]]
    return out


def cents_decimal(cents: int) -> str:
    """Integer cents as the decimal ODRL's payAmount expects: 1250 → "12.50"."""
    return f"{cents // 100}.{cents % 100:02d}"


def compensate_duty(*, pricing_model: str, unit_price_cents: int, unit: str | None) -> dict:
    """The duty to pay, from the offer's pricing (EUR; `unit` names what one price buys)."""
    constraint = [
        {
            "leftOperand": "payAmount",
            "operator": "eq",
            "rightOperand": {"@value": cents_decimal(unit_price_cents), "@type": "xsd:decimal"},
            "unit": "http://dbpedia.org/resource/Euro",
        }
    ]
    if unit:
        constraint.append(
            {"leftOperand": "unitOfCount", "operator": "eq", "rightOperand": _iri(unit)}
        )
    return {"action": "compensate", "constraint": constraint}


def policy_document(
    *,
    policy: dict,
    kind: str,
    uid: str,
    target: str,
    assigner: str,
    assignee: str | None = None,
    compensate: dict | None = None,
) -> dict:
    """An ODRL 2.2 JSON-LD policy (`kind` "Offer" or "Agreement") from validated rules."""
    if kind not in ("Offer", "Agreement"):
        raise ValueError("an exported policy is an Offer or an Agreement")
    common: dict[str, Any] = {"target": target, "assigner": assigner}
    if assignee:
        common["assignee"] = assignee
    document: dict[str, Any] = {
        "@context": ODRL_CONTEXT,
        "@type": kind,
        "uid": uid,
        "profile": PROFILE,
        "assigner": assigner,
    }
    if assignee:
        document["assignee"] = assignee
    document["target"] = target
    permissions = []
    for rule in policy["permission"]:
        out = _export_rule(rule, common=common)
        if compensate is not None:
            out["duty"] = [*out.get("duty", []), compensate]
        permissions.append(out)
    document["permission"] = permissions
    for key in ("prohibition", "obligation"):
        if policy.get(key):
            document[key] = [_export_rule(rule, common=common) for rule in policy[key]]
    return document
