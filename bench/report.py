"""Write the summary table of ``bench/results/*.json`` into ``docs/PERFORMANCE.md``.

Only the part between the two ``bench:summary`` markers is replaced, so the write-ups around
it (profiles, before and after) stay as they were written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULTS_DIR, ROOT  # noqa: E402

DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN = "<!-- bench:summary:begin (written by bench/report.py; do not edit by hand) -->"
END = "<!-- bench:summary:end -->"
ORDER = ["synth", "matrix", "dashboard", "readiness", "export", "verify", "load"]
# Where each benchmark's misses are profiled, in this document.
PROFILES = {
    "matrix": "#cohort-progress-matrix-and-student-dashboard",
    "dashboard": "#cohort-progress-matrix-and-student-dashboard",
    "export": "#completion-export",
    "verify": "#answers-kept-per-certificate-state-issue-21-item-2",
    "load": "#http-load",
}


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def summary(results: list[dict]) -> str:
    """The machine, then one table row per figure of every result."""
    lines = []
    machines = {json.dumps(r["machine"], sort_keys=True) for r in results}
    for text in sorted(machines):
        m = json.loads(text)
        lines.append(
            f"Measured on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), {m['os']}, "
            f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'absent'}."
        )
    when = sorted(r["ran_at"] for r in results)
    if when:
        lines.append(f"Runs from {when[0]} to {when[-1]} (UTC).")
    lines += [
        "",
        "| benchmark | database | measure | figure | baseline | ratio | target | met |",
        "| --- | --- | --- | ---: | --- | ---: | --- | --- |",
    ]
    for result in results:
        for f in result["figures"]:
            baseline = ""
            if f.get("baseline_value") is not None:
                baseline = f"{f['baseline']}: {_number(f['baseline_value'])} {f['unit']}"
            ratio = f"{f['ratio']:.2f}x" if f.get("ratio") is not None else ""
            met = {True: "yes", False: "**no**", None: ""}[f.get("met")]
            if f.get("met") is False and result["name"] in PROFILES:
                met += f" ([profile]({PROFILES[result['name']]}))"
            figure = f"{_number(f['value'])} {f['unit']}"
            lines.append(
                f"| {result['title']} | {f['database']} | {f['measure']} | {figure} | "
                f"{baseline} | {ratio} | {f['target']} | {met} |"
            )
    return "\n".join(lines)


def load_results() -> list[dict]:
    found = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))}
    names = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return [found[n] for n in names]


def main() -> None:
    results = load_results()
    table = summary(results)
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    print(f"Summary of {len(results)} benchmarks written to {DOC.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
