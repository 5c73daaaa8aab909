#!/usr/bin/env python3
"""Checks docs/domain.md's "Rules, code and tests" table: every file it names
exists, holds the function it names (`fn <name>`), and every test it names is a
`fn <name>` in the test file. Run by `make lint`."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "domain.md"


def main():
    text = DOC.read_text()
    section = text.split("## Rules, code and tests", 1)
    if len(section) != 2:
        sys.exit(f"{DOC}: no 'Rules, code and tests' section")
    rows = [line for line in section[1].splitlines() if line.startswith("| ") and not line.startswith("| rule") and "---" not in line]
    problems = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) != 4:
            problems.append(f"not four columns: {row}")
            continue
        for cell in cells[2:]:
            named = re.fullmatch(r"`([^`]+)` `([A-Za-z_][A-Za-z0-9_]*)`", cell)
            if not named:
                problems.append(f"expected `path` `name`: {cell}")
                continue
            path, name = named.groups()
            file = ROOT / path
            if not file.is_file():
                problems.append(f"{path} does not exist ({cells[0]})")
            elif not re.search(rf"\bfn {name}\b", file.read_text()):
                problems.append(f"{path} has no fn {name} ({cells[0]})")
    if not rows:
        problems.append("the table is empty")
    for problem in problems:
        print(f"docs/domain.md: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"docs/domain.md: {len(rows)} rules, every function and test found")


if __name__ == "__main__":
    main()
