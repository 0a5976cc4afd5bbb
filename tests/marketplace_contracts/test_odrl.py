"""The ODRL policy validator, the limits a policy sets, and the JSON-LD export: a malformed
policy gets a clear error naming where it is wrong."""

from __future__ import annotations

import copy

import pytest

from marketplace.data import odrl
from marketplace.data.services.contracts import rules_of

from .helpers import OPEN_POLICY, PERSONAL_POLICY


def test_a_good_policy_is_normalised_with_profile_terms_prefixed():
    policy = copy.deepcopy(PERSONAL_POLICY)
    policy["prohibition"][1]["action"] = odrl.PROFILE_NS + "trainModel"
    clean = odrl.policy_validate(policy)
    assert clean["prohibition"][1]["action"] == "smartb:trainModel"
    assert clean["permission"][0]["constraint"][0]["rightOperand"] == [
        "water-leak-detection",
        "research",
    ]


@pytest.mark.parametrize(
    ("policy", "where"),
    [
        ([], "$"),
        ({}, "permission"),
        ({"permission": []}, "permission"),
        ({"permission": [{"action": "read"}], "note": "x"}, "$"),
        ({"permission": [{"constraint": []}]}, "permission[0]"),
        ({"permission": [{"action": "fly"}]}, "permission[0].action"),
        ({"permission": [{"action": "read", "colour": "red"}]}, "permission[0]"),
        (
            {"permission": [{"action": "read", "constraint": [{"leftOperand": "count"}]}]},
            "permission[0].constraint[0]",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "weather", "operator": "eq", "rightOperand": 1}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].leftOperand",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "count", "operator": "near", "rightOperand": 1}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].operator",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "count", "operator": "lteq", "rightOperand": "10"}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "count", "operator": "lteq", "rightOperand": 2.5}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {
                                "leftOperand": "elapsedTime",
                                "operator": "lteq",
                                "rightOperand": "90 days",
                            }
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {
                                "leftOperand": "dateTime",
                                "operator": "lt",
                                "rightOperand": "2027-01-01T00:00:00",
                            }
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {
                                "leftOperand": "purpose",
                                "operator": "isAnyOf",
                                "rightOperand": ["profilage des habitants"],
                            }
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].rightOperand[0]",
        ),
        (
            {
                "permission": [
                    {
                        "action": "read",
                        "constraint": [
                            {"leftOperand": "payAmount", "operator": "eq", "rightOperand": 5}
                        ],
                    }
                ]
            },
            "permission[0].constraint[0].leftOperand",
        ),
        (
            {"permission": [{"action": "read", "duty": [{"action": "read"}]}]},
            "permission[0].duty[0].action",
        ),
        ({"permission": [{"action": "read"}], "prohibition": [{"action": "read"}]}, "prohibition"),
    ],
)
def test_a_malformed_policy_is_refused_naming_where(policy, where):
    with pytest.raises(odrl.InvalidPolicy) as refused:
        odrl.policy_validate(policy)
    assert str(refused.value.message).startswith(f"{where}: ")


def test_the_limits_are_the_tightest_bounds_of_the_permissions():
    policy = {
        "permission": [
            {
                "action": "read",
                "constraint": [
                    {"leftOperand": "count", "operator": "lt", "rightOperand": 10},
                    {"leftOperand": "smartb:records", "operator": "lteq", "rightOperand": 500},
                    {"leftOperand": "smartb:bytes", "operator": "lteq", "rightOperand": 10**6},
                    {"leftOperand": "elapsedTime", "operator": "lteq", "rightOperand": "P2W"},
                    {
                        "leftOperand": "dateTime",
                        "operator": "lteq",
                        "rightOperand": "2027-01-01T00:00:00+01:00",
                    },
                ],
            },
            {
                "action": "aggregate",
                "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 5}],
            },
        ]
    }
    limits = odrl.policy_limits(odrl.policy_validate(policy))
    assert limits.max_requests == 5
    assert limits.max_records == 500
    assert limits.max_bytes == 10**6
    assert limits.duration_days == 14
    assert limits.not_after.isoformat() == "2027-01-01T00:00:00+01:00"
    assert limits.actions == ["read", "aggregate"]


def test_personal_policy_limits_purposes_and_the_delete_duty():
    limits = odrl.policy_limits(odrl.policy_validate(PERSONAL_POLICY))
    assert limits.purposes == ["water-leak-detection", "research"]
    assert limits.duration_days == 90
    assert limits.delete_after_days == 30
    assert limits.prohibited == ["distribute", "smartb:trainModel"]


def test_the_json_ld_export_names_context_type_uid_parties_and_target():
    rules = odrl.policy_validate(PERSONAL_POLICY)
    document = odrl.policy_document(
        policy=rules,
        kind="Agreement",
        uid="urn:smartb:agreement:abc",
        target="urn:smartb:dataset:xyz",
        assigner="did:key:producer",
        assignee="did:key:consumer",
        compensate=odrl.compensate_duty(
            pricing_model="per_record", unit_price_cents=1250, unit="smartb:record"
        ),
    )
    assert document["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    assert document["@type"] == "Agreement"
    assert document["uid"] == "urn:smartb:agreement:abc"
    assert (document["assigner"], document["assignee"]) == ("did:key:producer", "did:key:consumer")
    assert document["prohibition"][1]["action"] == "https://smartb.fr/ns/odrl#trainModel"
    pay = document["permission"][0]["duty"][-1]
    assert pay["action"] == "compensate"
    assert pay["constraint"][0]["rightOperand"] == {"@value": "12.50", "@type": "xsd:decimal"}
    assert all(p["assignee"] == "did:key:consumer" for p in document["permission"])


@pytest.mark.parametrize("policy", [OPEN_POLICY, PERSONAL_POLICY])
def test_the_rules_read_back_from_an_export_are_the_validated_rules(policy):
    rules = odrl.policy_validate(policy)
    document = odrl.policy_document(
        policy=rules,
        kind="Offer",
        uid="urn:smartb:offer:o",
        target="urn:smartb:dataset:d",
        assigner="did:key:p",
        compensate=odrl.compensate_duty(pricing_model="per_request", unit_price_cents=5, unit=None),
    )
    assert rules_of(document) == rules
