"""Stacked bar charts drawn as SVG on the server: no JavaScript, nothing fetched from elsewhere.

Every label is escaped (``format_html``); the markup is inline in the page, so the strict
security headers of the admin need no exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe-Ito), in series order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

WIDTH = 640
HEIGHT = 170
LEFT = 36  # room for the y-axis labels
BOTTOM = 22  # room for the x-axis labels
TOP = 8


def _n(value: float) -> str:
    """A coordinate as SVG text (format_html stringifies before formatting)."""
    return f"{value:.1f}"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    *, title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]
) -> SafeString:
    """One SVG: a bar per bucket (``labels``), stacked by series, with a legend.

    Args:
        title: accessible name of the chart.
        labels: one x label per bucket (only some are printed when there are many).
        series: name -> one count per bucket.
    """
    buckets = len(labels)
    totals = [sum(values[i] for values in series.values()) for i in range(buckets)]
    peak = max([*totals, 1])
    plot_width = WIDTH - LEFT - 4
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(buckets, 1)
    bar = max(slot * 0.75, 1.0)
    parts: list[SafeString] = []
    # Axes and the peak gridline.
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" />',
            LEFT,
            TOP + plot_height,
            WIDTH - 4,
            TOP + plot_height,
        )
    )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd" stroke-dasharray="3 3" />'
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">{}</text>'
            '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#555">0</text>',
            LEFT,
            TOP,
            WIDTH - 4,
            TOP,
            LEFT - 4,
            TOP + 4,
            peak,
            LEFT - 4,
            TOP + plot_height,
        )
    )
    label_every = max(1, buckets // 8)
    for index in range(buckets):
        x = LEFT + index * slot + (slot - bar) / 2
        base = float(TOP + plot_height)
        for series_index, (name, values) in enumerate(series.items()):
            value = values[index]
            if not value:
                continue
            height = value / peak * plot_height
            base -= height
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} ({})</title></rect>",
                    _n(x),
                    _n(base),
                    _n(bar),
                    _n(height),
                    colour(series_index),
                    name,
                    value,
                    labels[index],
                )
            )
        if index % label_every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#555">{}</text>',
                    _n(x + bar / 2),
                    HEIGHT - 6,
                    labels[index],
                )
            )
    legend = format_html_join(
        "",
        '<span class="legend-item"><span class="swatch" style="background:{}"></span>{}'
        " ({})</span>",
        ((colour(i), name, sum(values)) for i, (name, values) in enumerate(series.items())),
    )
    svg = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" width="{}"'
        ' height="{}" viewBox="0 0 {} {}">{}</svg>',
        title,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        mark_safe("".join(parts)),  # noqa: S308 (escaped parts)
    )
    empty = "" if series else format_html('<p class="help">{}</p>', "Nothing recorded.")
    return format_html(
        '<figure class="chart">{}<figcaption>{}</figcaption>{}</figure>', svg, legend, empty
    )
