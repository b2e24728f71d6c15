"""Measured numbers in the README come from result files, never typed: this fills each block between
`<!-- from benchmarks/results/<name>.json -->` and `<!-- end -->` with that file's fields, or only the
fields named by `keys=` (comma-separated patterns over the dotted names, `*` a wildcard:
`<!-- from benchmarks/results/dashboards.json keys=verdict.*,tti_preheated.*.ratio_to_bare -->`).

    python tools/readme_numbers.py          # rewrite README.md's blocks from the result files
    python tools/readme_numbers.py --check  # exit 1 if a block differs from its file (a test runs this)
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- from (benchmarks/results/[\w.-]+\.json)(?: keys=([\w.*,-]+))? -->\n)(.*?)(<!-- end -->)", re.S)


def flatten(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def render(result_json: str, keys: str | None = None) -> str:
    """The fields of a result file (all, or those matching `keys`' patterns, in the file's order), as a
    two-column table."""
    rows = flatten(json.loads(result_json))
    if keys:
        patterns = keys.split(",")
        rows = [(k, v) for k, v in rows if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    return "| field | value |\n|---|---|\n" + "".join(f"| `{k}` | {v} |\n" for k, v in rows)


def filled(readme: str, read=lambda rel: (REPO / rel).read_text()) -> str:
    """`readme` with each block rendered from `read(<result file's path>)`."""
    return BLOCK.sub(lambda m: m.group(1) + render(read(m.group(2)), m.group(3)) + m.group(5), readme)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    path = REPO / "README.md"
    text = path.read_text()
    new = filled(text)
    if args.check:
        sys.exit(0 if new == text else "README.md's measured numbers differ from the result files: "
                 "run python tools/readme_numbers.py")
    path.write_text(new)


if __name__ == "__main__":
    main()
