"""A page's start in the kernel (issue 12): the landing page and lesson 1 load no torch (2 s and ~200 MB
of every kernel), and what they show instead of asking torch is what torch says."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _run(code: str, **env: str) -> dict:
    """Run `code` in a fresh Python (nothing imported yet) and return the JSON it prints last."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cells(stem: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("stem", ["00_index", "01_feature_scaling"])
def test_page_builds_without_importing_torch(stem):
    """Every code cell of the page (its imports and its builders) runs, and torch is never imported."""
    cells = _cells(stem)
    assert cells
    code = ("import json, sys\n"
            f"for src in {cells!r}:\n"
            "    exec(src, {})\n"
            "print(json.dumps({'torch': 'torch' in sys.modules, "
            "'heavy': sorted(m for m in ('torch', 'torchvision', 'sklearn', 'scipy') if m in sys.modules)}))")
    got = _run(code, LESSONS_LAZY="0")   # every section built, the lazy ones too
    assert got["torch"] is False, f"{stem} imported {got['heavy']} while it built"


def test_the_landing_pages_torch_free_device_line_is_select_devices():
    """The line told from torch's build and the machine (before torch is imported) is select_device()'s own
    sentence, once torch is imported and asked. On this CPU-only build the probe must answer."""
    got = _run(
        "import json, os, sys\n"
        "from widgets.views import index\n"
        "probe = index.probe_cpu_only()\n"
        "before = {lang: index.device_sentence(lang) for lang in ('en', 'zh')}\n"
        "assert 'torch' not in sys.modules or probe is None\n"
        "import torch\n"
        "from widgets.train import select_device\n"
        "after = {lang: index.device_sentence(lang) for lang in ('en', 'zh')}\n"
        "print(json.dumps(dict(probe=probe, before=before, after=after, select=select_device()[1],"
        " threads=torch.get_num_threads(), gpu_build=bool(torch.version.cuda or torch.version.hip),"
        " mac=sys.platform == 'darwin', env=bool(os.environ.get('OMP_NUM_THREADS') or os.environ.get('MKL_NUM_THREADS')))))")
    assert got["before"] == got["after"]
    assert got["before"]["en"] == got["select"]
    if not (got["gpu_build"] or got["mac"] or got["env"]):   # else torch itself is asked, by design
        assert got["probe"] == got["threads"]


def test_a_process_pinned_to_fewer_processors_asks_torch_for_its_threads():
    """Under taskset (a container's cpuset) torch's OpenMP counts only the processors it may use; the
    probe, which reads the machine's, steps aside and the sentence is select_device()'s."""
    code = ("import json, sys\nfrom widgets.views import index\nprobe = index.probe_cpu_only()\n"
            "before = index.device_sentence('en')\nimport torch\nfrom widgets.train import select_device\n"
            "print(json.dumps(dict(probe=probe, before=before, select=select_device()[1], threads=torch.get_num_threads())))")
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["probe"] is None and got["threads"] == 1
    assert got["before"] == got["select"]


@pytest.mark.parametrize("name", ["inception3a", "inception4a", "inception4e", "inception5b"])
def test_printed_rows_are_the_measured_models_explorer_fields(name):
    """The landing page reads inception 3a's fields from the printed table; the measured model agrees."""
    from widgets import inception_stats as S
    from widgets.inception_paper import printed_module_spec

    assert printed_module_spec(name) == S.explorer_defaults(S.default_table1(), name)


def test_landing_pages_lesson4_state_is_the_explorers_stack_on_the_measured_model():
    from widgets import inception_analysis as A
    from widgets import inception_stats as S
    from widgets.views.index import _states

    st = A.stack(4, **S.explorer_defaults(S.default_table1(), "inception3a"))
    nums = _states()["04_inception"][0][1]
    assert nums == {"naive": f"{st.naive_cumulative[-1] / 1e9:.2f}", "reduced": f"{st.reduced_cumulative[-1] / 1e9:.2f}"}


def test_maths_the_landing_page_uses_loads_no_torch():
    got = _run("import json, sys\n"
               "import widgets.bottleneck, widgets.flops, widgets.inception_module, widgets.inception_paper, widgets.scaling\n"
               "print(json.dumps('torch' in sys.modules))")
    assert got is False


def test_theme_registers_its_templates_on_first_use():
    """Importing the theme builds no plotly template (0.13 s); asking for one registers it with plotly."""
    got = _run("import json\n"
               "import plotly.io as pio\n"
               "from widgets.views import theme\n"
               "before = [n in pio.templates for n in theme.TEMPLATES.values()]\n"
               "name = theme.template('dark')\n"
               "t = pio.templates[name]\n"
               "print(json.dumps(dict(before=before, name=name, paper=t.layout.paper_bgcolor,"
               " colorway=list(t.layout.colorway))))")
    from widgets.views import palette

    assert got["before"] == [False, False]
    assert got["name"] == "course_dark" and got["paper"] == "rgba(0,0,0,0)"
    assert got["colorway"] == list(palette.COLORWAY)


def test_digits_read_without_scikit_learn_are_load_digits():
    """digits("all") reads scikit-learn's file itself (no sklearn import); the numbers are load_digits' own."""
    import numpy as np
    from sklearn.datasets import load_digits

    from widgets import data as D

    x, y = D.digits("all")
    ref = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(x, ref.data / 16.0) and np.array_equal(y, ref.target)
    got = _run("import json, sys\n"
               "from widgets.data import digits\n"
               "x, y = digits('all')\n"
               "print(json.dumps(dict(loaded=sorted(m for m in ('torch', 'sklearn') if m in sys.modules),"
               " sum=float(x.sum()), labels=int(y.sum()))))")
    assert got == {"loaded": [], "sum": float(x.sum()), "labels": int(y.sum())}


def test_data_reexports_augmentation_on_first_use():
    from widgets import augment, data

    assert data.normalize is augment.normalize and data.tile_images is augment.tile_images
    with pytest.raises(AttributeError):
        data.no_such_name  # noqa: B018


@pytest.mark.parametrize("stem, first", [("02_batch_norm", "forward_section"), ("03_bottleneck", "single_channel"),
                                         ("04_inception", "table1_view")])
def test_first_section_builds_without_torch(stem, first):
    """The page's header and its first section (the part a learner sees first) load neither torch nor scikit-learn."""
    cells = [c for c in _cells(stem) if "page_header" in c or first in c]
    assert len(cells) == 2
    code = ("import json, sys\n"
            f"for src in {cells!r}:\n"
            "    exec(src, {})\n"
            "print(json.dumps(sorted(m for m in ('torch', 'sklearn') if m in sys.modules)))")
    assert _run(code) == []


@pytest.mark.parametrize("stem", ["02_batch_norm", "05_live_training"])
def test_a_page_that_needs_the_split_reads_it_without_scikit_learn(stem):
    """Lesson 5 at its start, and lesson 2's inference section, use the digits' train/test split: it is read
    from widgets/recordings/digits_split.json (scikit-learn's import was 1.8 s of lesson 5's start)."""
    code = ("import json, sys\n"
            f"for src in {_cells(stem)!r}:\n"
            "    exec(src, {})\n"
            "print(json.dumps(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)))")
    assert _run(code, LESSONS_LAZY="0") == []


def test_table1_the_pages_read_is_the_models_measurement():
    """The record lesson 4 reads (widgets/recordings/googlenet_table1_224.json) is, in every row, branch, head
    and total, what measure_table1 measures on the model now, on CPU tensors and on 'meta' ones (no arithmetic).
    If widgets/googlenet.py changed, rewrite the record: python -m widgets.inception_record"""
    from widgets import inception_record as R
    from widgets import inception_stats as S

    cpu = S.measure_table1()
    assert S.default_table1() == cpu, "stale record: run python -m widgets.inception_record"
    assert R.read() == cpu and R.measure_on_meta() == cpu
    assert R.from_json(json.loads(json.dumps(R.to_json(cpu)))) == cpu


def test_inception_names_and_aux_weight_are_the_models():
    from widgets import googlenet as G
    from widgets import inception_stats as S

    assert S.INCEPTION_NAMES == tuple(G.TABLE1_INCEPTION)
    assert G.AUX_LOSS_WEIGHT == 0.3
