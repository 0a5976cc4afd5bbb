"""The formula evaluator: arithmetic over names with Decimal, nothing else; any other input
is a FormulaError, never an exception of another kind, never code run."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impact.formulas import FormulaError, evaluate, names_in, parse, to_smallest_unit

NAMES = ["distance_km", "factor", "mass_kg", "baseline"]
values = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False)


@st.composite
def expressions(draw, depth: int = 0):
    """(source text, a function computing its value from an environment)."""
    if depth > 3 or draw(st.booleans()):
        if draw(st.booleans()):
            name = draw(st.sampled_from(NAMES))
            return name, lambda env, name=name: env[name]
        literal = draw(st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False))
        text = format(literal, "f")
        return text, lambda env, value=Decimal(text): value
    left_text, left = draw(expressions(depth + 1))
    right_text, right = draw(expressions(depth + 1))
    op = draw(st.sampled_from("+-*/"))
    context = decimal.Context(prec=40, traps=[decimal.DivisionByZero, decimal.InvalidOperation])
    compute = {
        "+": context.add,
        "-": context.subtract,
        "*": context.multiply,
        "/": context.divide,
    }[op]
    return f"({left_text} {op} {right_text})", lambda env: compute(left(env), right(env))


@given(expressions(), st.fixed_dictionaries({name: values for name in NAMES}))
@settings(max_examples=300, deadline=None)
def test_arithmetic_matches_exact_decimal_arithmetic(expression, env):
    text, reference = expression
    try:
        expected = reference(env)
    except (decimal.DivisionByZero, decimal.InvalidOperation):
        with pytest.raises(FormulaError):
            evaluate(text, env)
        return
    assert evaluate(text, env) == expected


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
def test_any_text_is_a_formula_or_a_formula_error(text):
    try:
        names = names_in(text)
        result = evaluate(text, {name: Decimal(1) for name in names})
    except FormulaError:
        return
    assert isinstance(result, Decimal)


@pytest.mark.parametrize(
    "formula",
    [
        "__import__('os').system('true')",
        "distance_km.__class__",
        "open('/etc/passwd')",
        "[1, 2]",
        "distance_km ** 2",
        "distance_km // 2",
        "distance_km % 2",
        "lambda: 1",
        "distance_km if factor else 0",
        "distance_km < 3",
        "'text'",
        "1j",
        "True",
        "distance_km; factor",
        "x := 1",
        "",
        "(" * 300 + "1" + ")" * 300,
    ],
)
def test_anything_beyond_arithmetic_is_refused(formula):
    with pytest.raises(FormulaError):
        parse(formula)


def test_literals_are_read_as_written_not_as_floats():
    assert evaluate("0.1 + 0.2", {}) == Decimal("0.3")
    assert evaluate("distance_km * 0.193 / 1000", {"distance_km": Decimal("1000")}) == Decimal(
        "0.193"
    )


def test_missing_names_and_division_by_zero_are_formula_errors():
    with pytest.raises(FormulaError):
        evaluate("distance_km * 2", {})
    with pytest.raises(FormulaError):
        evaluate("1 / (factor - factor)", {"factor": Decimal("2")})
    with pytest.raises(FormulaError):
        evaluate("factor", {"factor": 1.5})


@given(
    st.decimals(min_value=0, max_value=10**9, places=9, allow_nan=False),
    st.integers(min_value=0, max_value=6),
)
def test_quantities_are_rounded_down_to_the_smallest_unit(value, precision):
    quantity = to_smallest_unit(value, precision)
    scaled = value * Decimal(10) ** precision
    assert isinstance(quantity, int)
    assert 0 <= scaled - quantity < 1


def test_negative_and_huge_results_are_refused():
    with pytest.raises(FormulaError):
        to_smallest_unit(Decimal("-0.001"), 3)
    with pytest.raises(FormulaError):
        to_smallest_unit(Decimal("1e30"), 3)
