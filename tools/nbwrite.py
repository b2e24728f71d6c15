"""Write a lesson notebook from a list of markdown strings and builder calls.

    write("notebooks/01_x.ipynb", [md("# Title ..."), call("widgets.views.x", "builder"), ...])

Cells are stored without outputs or execution counts, as the tests require.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def call(module: str, builder: str):
    return new_code_cell(f"from {module} import {builder}\n{builder}()")


def write(path: str, cells: list, title: str = "") -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if title:
        nb.metadata["title"] = title
    for c in nb.cells:  # nbformat adds random ids; keep diffs stable
        c.pop("id", None)
    nb.nbformat_minor = 4
    nbformat.write(nb, str(Path(__file__).resolve().parents[1] / path))
