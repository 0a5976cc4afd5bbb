"""Template filters of the cooperative pages."""

from __future__ import annotations

from fractions import Fraction

from django import template

from governance.selectors import Money

register = template.Library()


@register.filter
def euros(cents) -> str:
    """Integer cents as euros in the reader's language ("1 234,56 €")."""
    if cents is None or cents == "":
        return ""
    return str(Money(int(cents)))


@register.filter
def percent_of_bp(basis_points) -> str:
    """4250 basis points as "42.50"."""
    value = int(basis_points)
    return f"{value // 100}.{value % 100:02d}"


@register.filter
def fraction_decimal(text: str) -> str:
    """An exact fraction "n/d" of cents shown with four decimals (rounded half up)."""
    value = Fraction(text)
    scaled = (value * 10000 + Fraction(1, 2)).__floor__()
    sign = "-" if scaled < 0 else ""
    scaled = abs(scaled)
    return f"{sign}{scaled // 10000}.{scaled % 10000:04d}"


@register.filter
def get_item(mapping, key):
    """`mapping[key]`, or the key itself when it is missing."""
    return mapping.get(key, key) if hasattr(mapping, "get") else key
