"""A methodology's formula, evaluated safely: never `eval`.

A formula is arithmetic over names (the methodology's parameters and emission factors) and
decimal literals: `+ - * /`, unary minus and parentheses, nothing else. It is parsed with
`ast` and every node is checked against a whitelist; evaluation uses `decimal.Decimal` in a
local context (no float anywhere), and the result is turned into an integer count of the
token class's smallest unit, rounded down (a claim never gets more than it measured).
"""

from __future__ import annotations

import ast
import decimal
from decimal import Decimal

MAX_LENGTH = 500
MAX_NODES = 200
_CONTEXT = decimal.Context(
    prec=40,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999999,
    Emax=999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
# The largest quantity a claim may hold: fits a signed 64-bit column with room to spare.
MAX_QUANTITY = 10**15

_OPERATORS = {
    ast.Add: lambda a, b: _CONTEXT.add(a, b),
    ast.Sub: lambda a, b: _CONTEXT.subtract(a, b),
    ast.Mult: lambda a, b: _CONTEXT.multiply(a, b),
    ast.Div: lambda a, b: _CONTEXT.divide(a, b),
}


class FormulaError(ValueError):
    """A formula that is not allowed, or that cannot be evaluated with these values."""


def parse(formula: str) -> ast.Expression:
    """Parse and check `formula`; raises FormulaError for anything beyond the whitelist."""
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError("empty formula")
    if len(formula) > MAX_LENGTH:
        raise FormulaError("formula too long")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise FormulaError("not an arithmetic expression") from error
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError("formula too complex")
    for node in nodes:
        if isinstance(node, ast.Expression | ast.Load):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        if isinstance(node, ast.operator | ast.unaryop) and type(node) in (
            *_OPERATORS,
            ast.USub,
            ast.UAdd,
        ):
            continue
        raise FormulaError(f"{type(node).__name__} is not allowed in a formula")
    return tree


def names_in(formula: str) -> set[str]:
    """The parameter and factor names a formula uses."""
    return {node.id for node in ast.walk(parse(formula)) if isinstance(node, ast.Name)}


def _literal(node: ast.Constant, source: str) -> Decimal:
    # The literal as written ("0.193"), not the float Python read it as.
    text = ast.get_source_segment(source, node) or repr(node.value)
    try:
        return Decimal(text.replace("_", ""))
    except decimal.InvalidOperation as error:  # e.g. "1e5j" cannot reach here; be safe
        raise FormulaError(f"bad number {text!r}") from error


def evaluate(formula: str, values: dict[str, Decimal]) -> Decimal:
    """The value of `formula` with `values` for its names (all Decimal)."""
    tree = parse(formula)
    source = formula.strip()

    def walk(node: ast.AST) -> Decimal:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return _literal(node, source)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise FormulaError(f"no value for {node.id}")
            value = values[node.id]
            if not isinstance(value, Decimal) or not value.is_finite():
                raise FormulaError(f"{node.id} is not a finite decimal")
            return value
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return _CONTEXT.minus(operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            try:
                return _OPERATORS[type(node.op)](left, right)
            except decimal.DivisionByZero as error:
                raise FormulaError("division by zero") from error
            except (decimal.InvalidOperation, decimal.Overflow) as error:
                raise FormulaError("the arithmetic has no finite result") from error
        raise FormulaError(f"{type(node).__name__} is not allowed")  # pragma: no cover

    return walk(tree)


def to_smallest_unit(value: Decimal, precision: int) -> int:
    """`value` (in the class's unit) as a whole number of its smallest unit, rounded down;
    FormulaError if negative or beyond MAX_QUANTITY."""
    scaled = _CONTEXT.multiply(value, Decimal(10) ** precision)
    quantity = int(scaled.to_integral_value(rounding=decimal.ROUND_FLOOR))
    if quantity < 0:
        raise FormulaError("the result is negative")
    if quantity > MAX_QUANTITY:
        raise FormulaError("the result is too large")
    return quantity


def parse_decimal(text) -> Decimal:
    """A measured value: a decimal string (or an int), never a float."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise FormulaError("a value is a decimal string")
    try:
        value = Decimal(str(text).strip())
    except decimal.InvalidOperation as error:
        raise FormulaError(f"{str(text)[:40]!r} is not a decimal number") from error
    if not value.is_finite():
        raise FormulaError("a value is a finite number")
    return value
