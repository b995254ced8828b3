"""Tables that print as they fill and are kept: `publish` merges them into bench/results.json
and renders each between its markers in docs/performance.md
(`<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`), so a run of one section updates only
that section's tables."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
PAGE = ROOT / "docs" / "performance.md"


@dataclass
class Table:
    """One area's figures: `name` is its marker in docs/performance.md."""

    name: str
    title: str
    command: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """A row, printed as it comes (the header before the first)."""
        if not self.rows:
            print(f"\n## {self.title}\n{self.command}")
            print("  ".join(f"{c:>14}" for c in self.columns))
        row = [f"{c:.1f}" if isinstance(c, float) else str(c) for c in cells]
        self.rows.append(row)
        print("  ".join(f"{c:>14}" for c in row))

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(text)

    def markdown(self, measured: str) -> str:
        lines = [
            f"**{self.title}**",
            "",
            f"| {' | '.join(self.columns)} |",
            f"|{'---|' * len(self.columns)}",
            *(f"| {' | '.join(row)} |" for row in self.rows),
            "",
            *(f"{note}  " for note in self.notes),
            f"Command: `{self.command}` ({measured})",
        ]
        return "\n".join(lines)


def publish(tables: list[Table]) -> None:
    """Keep these tables' figures and render every kept table into the page."""
    if not tables:
        return
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    # When and on what: a shared machine's load average says how far to trust the figures.
    measured = (
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    for table in tables:
        kept[table.name] = {**asdict(table), "measured": measured}
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")
    page = PAGE.read_text()
    for name, figures in kept.items():
        when = figures.pop("measured")
        page = _render(page, name, Table(**figures).markdown(when))
    PAGE.write_text(page)
    print(f"\nwrote {RESULTS.relative_to(ROOT)} and the tables in {PAGE.relative_to(ROOT)}")


def _render(page: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
    if not pattern.search(page):
        raise ValueError(f"{PAGE.name} has no markers for the table '{name}'")
    return pattern.sub(lambda m: f"{m.group(1)}{body}\n{m.group(2)}", page)
