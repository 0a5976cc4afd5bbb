"""Template helpers of the impact pages: quantities and money as people read them, serial
ranges, and server-rendered SVG charts (no JavaScript library).

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` (what it shows, in
words), each bar with its own `<title>` (its label and value), coloured by CSS classes of
smartb.css (no inline style: the Content-Security-Policy forbids it). The page puts each
chart's data table right after it.
"""

from __future__ import annotations

import math

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from governance.selectors import Money

register = template.Library()

WIDTH = 640
BAR_HEIGHT = 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 12, 14, 40
ROW, LABEL_WIDTH, VALUE_WIDTH = 28, 170, 110
TICKS = 4
MAX_X_LABELS = 12
MAX_BAR_WIDTH = 56


# --- numbers ------------------------------------------------------------------------------


@register.filter
def qty(value, unit: str = "") -> str:
    """An integer quantity with its unit, grouped in the reader's language ("1 250 kg")."""
    if value in (None, ""):
        return "—"
    text = number_format(value, 0, force_grouping=True)
    return f"{text}\u00a0{unit}" if unit else text


@register.filter
def money(cents) -> str:
    """Integer cents as euros ("1 234,56 €")."""
    if cents in (None, ""):
        return "—"
    return str(Money(int(cents)))


@register.filter
def serial_range(holding) -> str:
    """A holding's serials: CITY-CLASS-VINTAGE-BATCH-first..last."""
    return f"{holding.batch.serial_prefix}-{holding.first_serial}..{holding.last_serial}"


@register.filter
def serials_label(serials) -> str:
    """A transfer's or retirement's ranges ([[batch id, first, last], ...]), short."""
    return ", ".join(f"{first}..{last}" for _batch, first, last in serials or [])


def _value_text(value: int, *, unit: str, is_money: bool) -> str:
    return money(value) if is_money else qty(value, unit)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (at least TICKS): the top
    of a chart's axis."""
    if value <= TICKS:
        return TICKS
    magnitude = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 2.5, 5):
        ceiling = int(step * magnitude)
        if ceiling >= value:
            return ceiling
    return 10 * magnitude


# --- charts -------------------------------------------------------------------------------


@register.inclusion_tag("impact/_chart_bars.html")
def bar_chart(series, chart_id: str):
    """Vertical bars over a time axis (one bar per month)."""
    points = series.points
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = BAR_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = nice_ceiling(max([p.value for p in points] + [0]))
    slot = plot_width / max(len(points), 1)
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    bars = []
    for position, point in enumerate(points):
        height = plot_height * point.value / top
        x = MARGIN_LEFT + position * slot
        width = min(slot * 0.7, MAX_BAR_WIDTH)
        bars.append(
            {
                "x": round(x + (slot - width) / 2, 2),
                "y": round(MARGIN_TOP + plot_height - height, 2),
                "width": round(width, 2),
                "height": round(height, 2),
                "label": point.label,
                "value": _value_text(point.value, unit=series.unit, is_money=series.money),
                "label_x": round(x + slot / 2, 2),
                "show_label": position % every == 0,
            }
        )
    ticks = []
    for step in range(TICKS + 1):
        value = top * step // TICKS
        ticks.append(
            {
                "y": round(MARGIN_TOP + plot_height - plot_height * value / top, 2),
                "label": money(value) if series.money else qty(value),
            }
        )
    return {
        "series": series,
        "chart_id": chart_id,
        "width": WIDTH,
        "height": BAR_HEIGHT,
        "bars": bars,
        "ticks": ticks,
        "axis_x1": MARGIN_LEFT,
        "axis_x2": WIDTH - MARGIN_RIGHT,
        "axis_y": MARGIN_TOP + plot_height,
        "label_y": MARGIN_TOP + plot_height + 18,
        "tick_x": MARGIN_LEFT - 6,
        "description": _describe(series),
    }


@register.inclusion_tag("impact/_chart_hbars.html")
def hbar_chart(series, chart_id: str):
    """Horizontal bars, one per category (district, service), in the series' order."""
    points = series.points
    top = max([p.value for p in points] + [1])
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for position, point in enumerate(points):
        y = MARGIN_TOP + position * ROW
        width = plot_width * point.value / top
        rows.append(
            {
                "y": y,
                "bar_y": y + 4,
                "text_y": y + ROW / 2 + 4,
                "width": round(max(width, 1), 2),
                "label": point.label,
                "short": point.label if len(point.label) <= 24 else point.label[:23] + "…",
                "value": _value_text(point.value, unit=series.unit, is_money=series.money),
                "value_x": round(LABEL_WIDTH + width + 6, 2),
            }
        )
    return {
        "series": series,
        "chart_id": chart_id,
        "width": WIDTH,
        "height": MARGIN_TOP * 2 + ROW * max(len(rows), 1),
        "rows": rows,
        "label_x": LABEL_WIDTH - 8,
        "bar_x": LABEL_WIDTH,
        "bar_height": ROW - 8,
        "description": _describe(series),
    }


@register.inclusion_tag("impact/_chart_stacks.html")
def stack_chart(stacks, chart_id: str, title: str):
    """One horizontal bar per token class, split into its available, escrowed, retired and
    redeemed units (they partition what was issued)."""
    plot_width = WIDTH - LABEL_WIDTH - MARGIN_RIGHT
    rows = []
    for position, stack in enumerate(stacks):
        y = MARGIN_TOP + position * (ROW + 12)
        x = LABEL_WIDTH
        segments = []
        for key, label, value in stack.parts:
            width = plot_width * value / stack.issued if stack.issued else 0
            if value:
                segments.append(
                    {
                        "key": key,
                        "x": round(x, 2),
                        "width": round(width, 2),
                        "title": f"{stack.label}, {label}: {qty(value, stack.unit)}",
                    }
                )
            x += width
        rows.append(
            {
                "stack": stack,
                "y": y,
                "bar_y": y + 4,
                "text_y": y + ROW / 2 + 4,
                "segments": segments,
            }
        )
    legend_y = MARGIN_TOP + len(rows) * (ROW + 12) + 8
    legend = []
    if stacks:
        for position, (key, label, _value) in enumerate(stacks[0].parts):
            legend.append({"key": key, "label": label, "x": LABEL_WIDTH + position * 110})
    summary = "; ".join(
        _("%(name)s: %(issued)s issued") % {"name": s.label, "issued": qty(s.issued, s.unit)}
        for s in stacks
    )
    return {
        "chart_id": chart_id,
        "title": title,
        "width": WIDTH,
        "height": legend_y + 24,
        "rows": rows,
        "legend": legend,
        "legend_y": legend_y,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": ROW - 8,
        "description": summary or _("No token issued yet."),
    }


def _describe(series) -> str:
    if not series.points:
        return _("No data yet.")
    biggest = max(series.points, key=lambda p: p.value)
    return _("%(n)s values, total %(total)s; highest: %(label)s (%(value)s).") % {
        "n": len(series.points),
        "total": _value_text(series.total, unit=series.unit, is_money=series.money),
        "label": biggest.label,
        "value": _value_text(biggest.value, unit=series.unit, is_money=series.money),
    }


@register.inclusion_tag("impact/_chart_forecast.html")
def forecast_chart(rows, chart_id: str, title: str, unit: str):
    """Forecast against certified impact, one pair of bars per year: the forecast's expected
    quantity with its P5–P95 range as a whisker, and the certified quantity beside it.
    `rows` are `forecast_vs_certified` rows of one methodology version."""
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = BAR_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = nice_ceiling(
        max([max(r["forecast_p95"], r["forecast"], r["certified"]) for r in rows] + [0])
    )
    slot = plot_width / max(len(rows), 1)
    width = min(slot * 0.35, MAX_BAR_WIDTH / 2)
    every = max(1, math.ceil(len(rows) / MAX_X_LABELS))
    base = MARGIN_TOP + plot_height

    def y_of(value: int) -> float:
        return round(base - plot_height * value / top, 2)

    pairs = []
    for position, row in enumerate(rows):
        x = MARGIN_LEFT + position * slot + (slot - 2 * width) / 2
        forecast, certified = y_of(row["forecast"]), y_of(row["certified"])
        pairs.append(
            {
                "year": row["year"],
                "forecast_x": round(x, 2),
                "forecast_y": forecast,
                "forecast_height": round(base - forecast, 2),
                "forecast_text": _("%(year)s, forecast: %(value)s (P5–P95: %(p5)s – %(p95)s)")
                % {
                    "year": row["year"],
                    "value": qty(row["forecast"], unit),
                    "p5": qty(row["forecast_p5"]),
                    "p95": qty(row["forecast_p95"], unit),
                },
                "whisker_x": round(x + width / 2, 2),
                "whisker_y1": y_of(row["forecast_p5"]),
                "whisker_y2": y_of(row["forecast_p95"]),
                "certified_x": round(x + width, 2),
                "certified_y": certified,
                "certified_height": round(base - certified, 2),
                "certified_text": _("%(year)s, certified: %(value)s")
                % {"year": row["year"], "value": qty(row["certified"], unit)},
                "label_x": round(x + width, 2),
                "show_label": position % every == 0,
            }
        )
    ticks = [
        {"y": y_of(top * step // TICKS), "label": qty(top * step // TICKS)}
        for step in range(TICKS + 1)
    ]
    forecast_total = sum(r["forecast"] for r in rows)
    certified_total = sum(r["certified"] for r in rows)
    return {
        "chart_id": chart_id,
        "title": title,
        "unit": unit,
        "width": WIDTH,
        "height": BAR_HEIGHT + 20,
        "pairs": pairs,
        "bar_width": round(width, 2),
        "ticks": ticks,
        "axis_x1": MARGIN_LEFT,
        "axis_x2": WIDTH - MARGIN_RIGHT,
        "axis_y": base,
        "label_y": base + 18,
        "legend_y": base + 26,
        "legend_x2": MARGIN_LEFT + 140,
        "tick_x": MARGIN_LEFT - 6,
        "description": _(
            "%(n)s years: forecast %(forecast)s in total, certified %(certified)s so far."
        )
        % {
            "n": len(rows),
            "forecast": qty(forecast_total, unit),
            "certified": qty(certified_total, unit),
        },
    }
