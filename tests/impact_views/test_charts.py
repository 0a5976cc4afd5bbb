"""The SVG chart helpers: bars proportional to their values on a rounded axis, labelled
for screen readers; quantities and money as people read them."""

from __future__ import annotations

from django.utils import translation

from impact.page_selectors import Point, Series
from impact.templatetags.impact_tags import bar_chart, hbar_chart, money, nice_ceiling, qty


def test_the_axis_rounds_up_to_1_2_2_5_or_5_times_a_power_of_ten():
    assert [nice_ceiling(v) for v in (0, 3, 7, 11, 193, 240, 260, 4999)] == [
        4,
        4,
        10,
        20,
        200,
        250,
        500,
        5000,
    ]


def test_bars_are_proportional_and_titled():
    series = Series("k", "13.2.2", "kg CO2e", [Point("2026-01", 50), Point("2026-02", 100)])
    with translation.override("en"):
        chart = bar_chart(series, "c1")
    first, second = chart["bars"]
    assert second["height"] == 2 * first["height"]
    assert first["label"] == "2026-01" and first["value"] == "50\u00a0kg CO2e"
    assert "total 150\u00a0kg CO2e" in chart["description"]


def test_horizontal_bars_keep_the_series_order():
    series = Series("d", "13.2.2", "kg", [Point("nord", 9), Point("sud", 3)])
    rows = hbar_chart(series, "c2")["rows"]
    assert [r["label"] for r in rows] == ["nord", "sud"]
    assert rows[0]["width"] == 3 * rows[1]["width"]


def test_numbers_read_in_the_readers_language():
    with translation.override("fr"):
        assert qty(1250, "kg") == "1\u00a0250\u00a0kg"
        assert money(123456) == "1\u00a0234,56\u00a0€"
    with translation.override("en"):
        assert qty(1250) == "1,250"
