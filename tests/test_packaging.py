"""The pins in pyproject.toml, environment.yml and binder/ agree, package by package; the
repository has what the README promises."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> pip name


def pip_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.+]*)", r)
        assert m, f"not pinned exactly: {r!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def runtime_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {k: v for k, v in pip_pins().items() if any(d.lower().startswith(k + "==") for d in project["dependencies"])}


def yaml_deps(path: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(conda deps, pip deps, pip options) of a conda environment file."""
    env = yaml.safe_load(path.read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip, opts = {}, {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for entry in dep["pip"]:
                if entry.startswith("-"):
                    opts.append(entry)
                else:
                    name, _, version = entry.partition("==")
                    pip[name.lower()] = version
        else:
            name, _, version = dep.partition("=")
            conda[CONDA_NAMES.get(name.lower(), name.lower())] = version.split("=")[0]
    return conda, pip, opts


def test_every_dependency_is_pinned():
    pins = pip_pins()
    assert pins["torch"] == "2.13.0"
    for name in ("jupyterlab", "ipywidgets", "plotly", "numpy", "voila", "ipykernel",
                 "scikit-learn", "pytest", "nbclient", "playwright"):
        assert name in pins, f"{name} missing from pyproject.toml"


def test_environment_yml_matches_pyproject():
    conda, pip, _ = yaml_deps(REPO / "environment.yml")
    assert conda.pop("python") == "3.11"
    conda.pop("pip")
    assert not set(conda) & set(pip), "each package from one installer"
    assert {**conda, **pip} == pip_pins()   # a package conda-forge lacks comes from PyPI, same pin


def test_binder_matches_pyproject_and_is_cpu_only():
    conda, pip, opts = yaml_deps(REPO / "binder" / "environment.yml")
    assert conda.get("python") == "3.11", "Binder defaults to Python 3.10: pin 3.11"
    assert pip.pop("torch") == runtime_pins()["torch"] + "+cpu", "Binder must get the CPU-only torch"
    expected = {k: v for k, v in runtime_pins().items() if k != "torch"}
    assert pip == expected
    assert any("download.pytorch.org/whl/cpu" in o for o in opts)
    assert not (REPO / ".binder").exists(), "repo2docker reads binder/ or .binder/, never both"
    assert not (REPO / "binder" / "requirements.txt").exists(), "environment.yml wins: keep one"
    post = (REPO / "binder" / "postBuild")
    assert post.stat().st_mode & 0o111 and "pip install --no-deps -e ." in post.read_text()


def test_readme_commands_and_binder_badge():
    text = (REPO / "README.md").read_text()
    first = text[: text.find("##", text.find("##") + 2)]
    assert "make serve" in first and "make test" in first, "the two commands come first"
    assert re.search(r"mybinder\.org/v2/gh/[^)\s]+\?urlpath=voila%2Frender%2Fnotebooks%2F00_index\.ipynb", text)
    assert (REPO / "docs" / "lesson1.png").exists()


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_precommit_strips_notebooks():
    cfg = (REPO / ".pre-commit-config.yaml").read_text()
    assert "nbstripout" in cfg


def test_readme_numbers_come_from_the_result_files():
    """Each measured block in the README is its result file as committed (tools/readme_numbers.py
    writes it)."""
    import importlib.util
    import subprocess

    spec = importlib.util.spec_from_file_location("readme_numbers", REPO / "tools" / "readme_numbers.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    BLOCK, filled = tool.BLOCK, tool.filled

    def committed(rel: str) -> str:
        proc = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=REPO, capture_output=True, text=True)
        return proc.stdout if proc.returncode == 0 else (REPO / rel).read_text()

    readme = (REPO / "README.md").read_text()
    assert BLOCK.search(readme), "the README's class numbers are inserted from benchmarks/results/"
    assert filled(readme, committed) == readme, "run python tools/readme_numbers.py"


def test_readme_number_blocks_can_name_their_fields():
    """`keys=` keeps only the named fields (patterns over dotted names), in the file's order."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_numbers", REPO / "tools" / "readme_numbers.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    result = '{"date": "d", "tti": {"a": {"ratio": 1.2, "s": 3}, "b": {"ratio": 2.5}}, "ok": true}'
    block = "<!-- from benchmarks/results/x.json keys=tti.*.ratio,ok -->\nold\n<!-- end -->"
    out = tool.filled(block, lambda rel: result)
    assert "| `tti.a.ratio` | 1.2 |\n| `tti.b.ratio` | 2.5 |\n| `ok` | True |\n" in out
    assert "`date`" not in out and "`tti.a.s`" not in out and "old" not in out
