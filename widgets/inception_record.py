"""GoogLeNet's Table 1 measurement, stored: what lesson 4's pages read instead of loading torch and the model.

`python -m widgets.inception_record` measures the default GoogLeNet (inception_stats.measure_table1, on torch's
'meta' device: shapes, weights and multiply-adds counted, no arithmetic done) and writes TABLE1_RECORD;
inception_stats.default_table1 reads it. tests/test_startup.py measures the model again, on CPU and meta
tensors, and fails if the record differs in any number (rewrite it after a change to widgets/googlenet.py).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from widgets.inception_stats import PAPER_TABLE1, AuxMeasurement, MeasuredRow, Table1Measurement, measure_table1

TABLE1_RECORD = Path(__file__).resolve().parent / "recordings" / "googlenet_table1_224.json"


def measure_on_meta(image_size: int = 224) -> Table1Measurement:
    """measure_table1 on a default GoogLeNet built on the 'meta' device: no convolution is computed."""
    import torch

    from widgets.googlenet import GoogLeNet

    with torch.device("meta"):
        model = GoogLeNet()
    return measure_table1(model, image_size=image_size)


def to_json(m: Table1Measurement) -> dict:
    """A measurement as JSON (rows in PAPER_TABLE1's order; each row's paper row is not repeated)."""
    d = asdict(m)
    for row in d["rows"]:
        del row["paper"]
    return d


def from_json(d: dict) -> Table1Measurement:
    tup = lambda v: tuple(v) if v is not None else None  # noqa: E731  (JSON has lists; the dataclasses tuples)
    if len(d["rows"]) != len(PAPER_TABLE1):
        raise ValueError(f"{TABLE1_RECORD.name}: {len(d['rows'])} rows, Table 1 has {len(PAPER_TABLE1)}")
    rows = [MeasuredRow(paper=p, **{**r, "input_shape": tup(r["input_shape"]), "output_shape": tup(r["output_shape"])})
            for p, r in zip(PAPER_TABLE1, d["rows"])]
    aux = [AuxMeasurement(**{**a, "input_shape": tuple(a["input_shape"]), "layers": [tuple(x) for x in a["layers"]]})
           for a in d["aux"]]
    return Table1Measurement(**{**d, "rows": rows, "aux": aux})


def read(path: Path = TABLE1_RECORD) -> Table1Measurement:
    return from_json(json.loads(path.read_text()))


if __name__ == "__main__":
    TABLE1_RECORD.write_text(json.dumps(to_json(measure_on_meta(224)), indent=1) + "\n")
    print(f"wrote {TABLE1_RECORD}")
