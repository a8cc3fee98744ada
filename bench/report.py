"""Turn measurements into the result: medians, ratios, targets (issue 11), table, JSON, docs."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import Measurement

BARE = "floor.bare"
# A row with more refused or failed requests than this is flagged (it measured errors).
MAX_ERROR_SHARE = 0.01
# gunicorn lets one worker take most of wrk's 32 keep-alive connections at random; wrk is
# restarted while its busiest worker holds more than this share (20 of 32; bench.runner).
MAX_WORKER_SHARE = 0.625
DOCS_START = "<!-- bench:results:start -->"
DOCS_END = "<!-- bench:results:end -->"

# Ratios to the bare floor measured on the reference machine, for comparison.
REFERENCE_RATIOS = {
    "floor.pk": 0.35,
    "floor.redis": 0.61,
    "floor.physical": 0.22,
    "floor.issue": 0.15,
    "simplejwt.me": 0.16,
    "simplejwt.issue": 0.09,
}


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    row: str
    baseline: str | None  # None: a latency target on the row's p99
    required: float


TARGETS = (
    Target(
        "me_vs_simplejwt",
        "/api/me ≥ 2x simplejwt's protected view",
        "authcore.me",
        "simplejwt.me",
        2.0,
    ),
    Target(
        "me_vs_physical",
        "/api/me ≥ 1.0x the naive physical floor",
        "authcore.me",
        "floor.physical",
        1.0,
    ),
    Target("me_p99", "/api/me p99 < 50 ms at 32 connections", "authcore.me", None, 50.0),
    Target("jwks", "JWKS ≥ 0.90 of the bare floor", "authcore.jwks", BARE, 0.90),
    Target(
        "openid", "OpenID configuration ≥ 0.90 of the bare floor", "authcore.openid", BARE, 0.90
    ),
    Target(
        "issue_vs_floor",
        "token issue ≥ 0.80 of the naive issue floor",
        "authcore.issue",
        "floor.issue",
        0.80,
    ),
    Target(
        "issue_vs_simplejwt",
        "token issue ≥ 1.5x simplejwt's issue",
        "authcore.issue",
        "simplejwt.issue",
        1.5,
    ),
    Target(
        "stack",
        "bare view behind the full middleware stack ≥ 0.55 of the bare floor",
        "authcore.stack",
        BARE,
        0.55,
    ),
    Target(
        "healthz", "exempt path /healthz ≥ 0.90 of the bare floor", "authcore.healthz", BARE, 0.90
    ),
)

# Rows reported against their own naive floor, with no target (besides their targets, the
# exempt paths and the stack are also reported against a floor answering with the same headers).
OWN_FLOORS = {
    "authcore.passkey": "floor.passkey",
    "authcore.webme": "floor.session",
    "authcore.healthz": "floor.headers",
    "authcore.jwks": "floor.document",
    "authcore.stack": "floor.limited",
}


@dataclass
class Row:
    key: str
    label: str
    unavailable: str = ""
    rounds: list[Measurement] | None = None

    @property
    def measured(self) -> bool:
        return bool(self.rounds)

    def median(self, attribute: str) -> float:
        assert self.rounds
        return statistics.median(getattr(m, attribute) for m in self.rounds)

    @property
    def status(self) -> str:
        if self.unavailable:
            return "unavailable"
        if not self.rounds:
            return "not run"
        errors = sum(m.errors for m in self.rounds)
        requests = sum(m.requests for m in self.rounds)
        share = errors / requests if requests else 1.0
        status = f"{share:.1%} errors" if share > MAX_ERROR_SHARE else "ok"
        unbalanced = [m for m in self.rounds if m.busiest_worker_share > MAX_WORKER_SHARE]
        if unbalanced:
            spread = "/".join(str(n) for n in unbalanced[0].connections_per_worker)
            status += f" ({len(unbalanced)} round(s) with connections {spread} per worker)"
        return status


def _ratio(rows: dict[str, Row], row: str, baseline: str) -> float | None:
    """Median over rounds of (row rate / baseline rate) in the same round."""
    a, b = rows.get(row), rows.get(baseline)
    if a is None or b is None or not a.rounds or not b.rounds:
        return None
    pairs = [x.rate / y.rate for x, y in zip(a.rounds, b.rounds, strict=False) if y.rate > 0]
    return statistics.median(pairs) if pairs else None


def build_result(
    rows: list[Row], crypto: dict[str, float], meta: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    by_key = {row.key: row for row in rows}
    out_rows = []
    for row in rows:
        entry: dict[str, Any] = {"key": row.key, "label": row.label, "status": row.status}
        if row.unavailable:
            entry["reason"] = row.unavailable
        if row.rounds:
            entry.update(
                rate=round(row.median("rate"), 1),
                p50_ms=round(row.median("p50_ms"), 2),
                p99_ms=round(row.median("p99_ms"), 2),
                ratio_to_bare=_rounded(_ratio(by_key, row.key, BARE)),
                reference_ratio=REFERENCE_RATIOS.get(row.key),
                rounds=[
                    {
                        "rate": round(m.rate, 1),
                        "p50_ms": round(m.p50_ms, 2),
                        "p99_ms": round(m.p99_ms, 2),
                        "requests": m.requests,
                        "errors": m.errors,
                        "connections_per_worker": list(m.connections_per_worker),
                    }
                    for m in row.rounds
                ],
            )
        out_rows.append(entry)
    targets = []
    for target in TARGETS:
        target_row = by_key.get(target.row)
        if target.baseline is None:
            measured = (
                target_row.median("p99_ms")
                if target_row is not None and target_row.rounds
                else None
            )
            met = None if measured is None else measured < target.required
        else:
            measured = _ratio(by_key, target.row, target.baseline)
            met = None if measured is None else measured >= target.required
        if met is not None and target_row is not None and "errors" in target_row.status:
            met = False
        targets.append(
            {
                "key": target.key,
                "text": target.text,
                "row": target.row,
                "baseline": target.baseline,
                "required": target.required,
                "measured": _rounded(measured),
                "met": met,
            }
        )
    own_floors = [
        {"row": row, "baseline": base, "ratio": _rounded(_ratio(by_key, row, base))}
        for row, base in OWN_FLOORS.items()
    ]
    return {
        **meta,
        "crypto_floors": {k: round(v, 1) for k, v in crypto.items()},
        "rows": out_rows,
        "targets": targets,
        "own_floors": own_floors,
        "notes": notes,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _verdict(met: bool | None) -> str:
    return {True: "**met**", False: "**missed**", None: "not measured"}[met]


def render_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Run {result['generated_at']} ({result['mode']}): {result['server']}, "
        f"{result['load']}, {result['rounds']} round(s) of {result['seconds']} s per row, "
        f"{result['cpus']} CPUs.",
        "",
        "| row | req/s | p50 ms | p99 ms | x bare floor | issue's reference | status |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result["rows"]:
        if "rate" not in row:
            reason = row.get("reason", "")
            lines.append(f"| {row['label']} | - | - | - | - | - | {row['status']}: {reason} |")
            continue
        ratio = "-" if row["ratio_to_bare"] is None else f"{row['ratio_to_bare']:.2f}"
        reference = row.get("reference_ratio")
        lines.append(
            f"| {row['label']} | {row['rate']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {ratio} | {'' if reference is None else f'{reference:.2f}'} | {row['status']} |"
        )
    lines += ["", "| target (issue 11) | measured | verdict |", "| --- | ---: | --- |"]
    for target in result["targets"]:
        measured = target["measured"]
        if measured is None:
            shown = "-"
        elif target["baseline"] is None:
            shown = f"{measured:.1f} ms"
        else:
            shown = f"{measured:.2f}x"
        lines.append(f"| {target['text']} | {shown} | {_verdict(target['met'])} |")
    for own in result["own_floors"]:
        ratio = "-" if own["ratio"] is None else f"{own['ratio']:.2f}x"
        lines.append(f"| {own['row']} against {own['baseline']} (reported) | {ratio} | - |")
    crypto = result["crypto_floors"]
    if crypto:
        lines += [
            "",
            "In-process crypto floors (one core): "
            f"PyJWT RS256 sign {crypto['rs256_sign_per_s']:,.0f}/s, "
            f"verify {crypto['rs256_verify_per_s']:,.0f}/s; "
            f"PEM private key load {crypto['pem_private_key_load_ms']:.1f} ms; "
            f"py_webauthn assertion verify {crypto['webauthn_assertion_verify_per_s']:,.0f}/s.",
        ]
    for note in result["notes"]:
        lines.append(f"\nNote: {note}")
    return "\n".join(lines) + "\n"


def write_results(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    stamp = result["generated_at"].replace(":", "").replace("-", "")
    (directory / f"{stamp}.json").write_text(text)
    latest = directory / "latest.json"
    latest.write_text(text)
    return latest


def update_docs(markdown: str, docs_path: Path) -> None:
    """Replace the text between the result markers of ``docs_path`` (append them if absent)."""
    text = docs_path.read_text() if docs_path.exists() else ""
    block = f"{DOCS_START}\n{markdown}{DOCS_END}"
    if DOCS_START in text and DOCS_END in text:
        head, _, rest = text.partition(DOCS_START)
        _, _, tail = rest.partition(DOCS_END)
        text = head + block + tail
    else:
        text = text + ("\n" if text else "") + block + "\n"
    docs_path.write_text(text)
