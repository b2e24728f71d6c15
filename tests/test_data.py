"""widgets.data: the digits split, the CIFAR-10 binary loader (on files written here), and the
on-device crops and flips, checked against plain slicing, torch.flip and F.interpolate."""
from __future__ import annotations

import hashlib
import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from widgets import data as D


# ----------------------------------------------------------------------------- digits

def test_digits_split_is_fixed_stratified_and_offline():
    a, b = D.load_digits_data(), D.load_digits_data()
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_test.shape == (360, 1, 8, 8)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_train, b.y_train)
    assert a.x_train.dtype == torch.float32 and 0.0 <= float(a.x_train.min()) and float(a.x_train.max()) == 1.0
    # stratified: every class has 35-37 test images (1,797 / 10 * 0.2 ~ 36)
    counts = torch.bincount(a.y_test, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37
    # train and test are disjoint images of the 1,797
    from sklearn.datasets import load_digits

    full = torch.from_numpy(load_digits().images.astype(np.float32) / 16).reshape(1797, -1)
    assert a.x_train.shape[0] + a.x_test.shape[0] == full.shape[0]
    assert a.mean[0] == pytest.approx(float(a.x_train.mean()), rel=1e-6)
    assert a.classes == [str(i) for i in range(10)] and a.in_channels == 1 and a.native_size == 8


def test_one_digits_loader_with_a_documented_split():
    from sklearn.datasets import load_digits

    x, y = D.digits("all")
    ref = load_digits()
    assert x.dtype == np.float64 and x.shape == (1797, 64)
    assert np.array_equal(x, ref.data / 16.0) and np.array_equal(y, ref.target)
    (xtr, ytr), (xte, yte) = D.digits("train"), D.digits("test")
    assert len(ytr) == 1437 and len(yte) == 360 == math.ceil(D.DIGITS_TEST_FRACTION * 1797)  # scikit-learn rounds the test side up
    # the two sides are the 1,797 images, each once (rows of pixels + label, as multisets)
    rows = lambda a, b: sorted(map(tuple, np.c_[a, b].tolist()))  # noqa: E731
    assert rows(np.r_[xtr, xte], np.r_[ytr, yte]) == rows(x, y)
    # the engine's ImageData is the same split
    img = D.load_digits_data()
    assert np.array_equal(img.x_train.reshape(-1, 64).double().numpy(), xtr)
    assert np.array_equal(img.y_test.numpy(), yte)
    xtr[:] = -1  # callers get their own arrays
    assert D.digits("train")[0].min() == 0.0
    with pytest.raises(ValueError, match="unknown digits split 'val'"):
        D.digits("val")


def test_load_dataset_rejects_unknown_name():
    with pytest.raises(ValueError, match="unknown data set 'imagenet'"):
        D.load_dataset("imagenet")


# ----------------------------------------------------------------------------- CIFAR-10 binary

def _records(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, bytes]:
    """n random images and labels, and their bytes written independently of widgets.data."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    raw = b"".join(bytes([labels[i]]) + images[i].tobytes() for i in range(n))  # label byte, then R, G, B planes
    return images, labels, raw


def _write_batches(folder, n_per_file=6):
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, name in enumerate([*D.CIFAR10_TRAIN_FILES, D.CIFAR10_TEST_FILE]):
        images, labels, raw = _records(n_per_file, k)
        (folder / name).write_bytes(raw)
        truth[name] = (images, labels)
    return truth


def test_record_layout_matches_the_format():
    images, labels, raw = _records(3, 0)
    assert len(raw) == 3 * 3073
    x, y = D.parse_cifar_records(raw)
    assert x.shape == (3, 3, 32, 32) and x.dtype == np.uint8
    assert np.array_equal(x, images) and np.array_equal(y, labels.astype(np.int64))
    # pixel (row 5, col 7) of the green plane of image 1 is byte 1 + 1024 + 5 * 32 + 7 of record 1
    assert x[1, 1, 5, 7] == raw[3073 + 1 + 1024 + 5 * 32 + 7]


def test_bad_record_length_and_labels_are_rejected():
    with pytest.raises(ValueError, match="whole number of 3073-byte"):
        D.parse_cifar_records(b"\x00" * 3000)
    with pytest.raises(ValueError, match="label 200"):
        D.parse_cifar_records(bytes([200]) + b"\x00" * 3072)


def test_write_cifar_records_round_trips(tmp_path):
    images, labels, raw = _records(4, 1)
    D.write_cifar_records(tmp_path / "b.bin", images, labels)
    assert (tmp_path / "b.bin").read_bytes() == raw


def test_loads_extracted_batches(tmp_path):
    truth = _write_batches(tmp_path / D.CIFAR10_FOLDER)
    ds = D.load_cifar10(tmp_path, download=False, records_per_file=6)
    assert ds.x_train.shape == (30, 3, 32, 32) and ds.x_test.shape == (6, 3, 32, 32)
    assert np.array_equal(ds.x_train[6:12].numpy(), truth["data_batch_2.bin"][0])
    assert np.array_equal(ds.y_test.numpy(), truth["test_batch.bin"][1])
    assert ds.classes[0] == "airplane" and ds.in_channels == 3 and ds.num_classes == 10


def test_batch_files_of_the_wrong_size_are_refused_in_one_line(tmp_path):
    _write_batches(tmp_path / D.CIFAR10_FOLDER)  # 6 records a file, not CIFAR-10's 10,000
    with pytest.raises(D.BadDataFile) as e:
        D.load_cifar10(tmp_path, download=False)
    msg = str(e.value)
    assert "data_batch_1.bin" in msg and "18,438 bytes" in msg and "30,730,000" in msg and "\n" not in msg
    assert isinstance(e.value, ValueError)  # still the parse error it always was, with a loader's name


def test_labels_out_of_range_are_the_loaders_one_line_error(tmp_path):
    truth = _write_batches(tmp_path / D.CIFAR10_FOLDER)
    images, labels = truth[D.CIFAR10_TEST_FILE]
    labels = labels.copy()
    labels[3] = 10
    D.write_cifar_records(tmp_path / D.CIFAR10_FOLDER / D.CIFAR10_TEST_FILE, images, labels)
    with pytest.raises(D.BadDataFile, match=r"test_batch.bin: label 10 out of range 0..9") as e:
        D.load_cifar10(tmp_path, download=False, records_per_file=6)
    assert "\n" not in str(e.value)


def test_archive_members_of_the_wrong_size_are_refused(tmp_path):
    _write_batches(tmp_path / "src" / D.CIFAR10_FOLDER)
    blob = _archive(tmp_path, tmp_path / "src" / D.CIFAR10_FOLDER)
    (tmp_path / D.CIFAR10_ARCHIVE).write_bytes(blob)
    with pytest.raises(D.BadDataFile, match=r"data_batch_1.bin .*18,438 bytes"):
        D.load_cifar10(tmp_path, download=False, md5=hashlib.md5(blob).hexdigest())


def test_the_cli_reports_a_bad_cifar_file_in_one_line(tmp_path, capsys):
    from widgets import train as T

    _write_batches(tmp_path / D.CIFAR10_FOLDER)
    try:
        code = T.main(["--dataset", "cifar10", "--data-dir", str(tmp_path), "--no-download", "--no-progress"])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "data_batch_1.bin" in err and err.count("\n") == 1 and "Traceback" not in err


def _archive(tmp_path, truth_folder) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(truth_folder, arcname=D.CIFAR10_FOLDER)
    return buf.getvalue()


def test_reads_archive_with_matching_md5_and_rejects_a_corrupted_one(tmp_path):
    truth = _write_batches(tmp_path / "src" / D.CIFAR10_FOLDER)
    blob = _archive(tmp_path, tmp_path / "src" / D.CIFAR10_FOLDER)
    good = tmp_path / "good"
    good.mkdir()
    (good / D.CIFAR10_ARCHIVE).write_bytes(blob)
    ds = D.load_cifar10(good, download=False, md5=hashlib.md5(blob).hexdigest(), records_per_file=6)
    assert np.array_equal(ds.x_test.numpy(), truth["test_batch.bin"][0])
    assert "md5 verified" in ds.source
    # The same archive against the official checksum: rejected, nothing read.
    with pytest.raises(D.ChecksumError, match=D.CIFAR10_MD5):
        D.load_cifar10(good, download=False)
    # A truncated archive: rejected by its checksum too.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / D.CIFAR10_ARCHIVE).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(D.ChecksumError, match="corrupted or incomplete"):
        D.load_cifar10(bad, download=False, md5=hashlib.md5(blob).hexdigest())


def test_download_on_demand_into_the_cache_dir(tmp_path):
    _write_batches(tmp_path / "src" / D.CIFAR10_FOLDER)
    blob = _archive(tmp_path, tmp_path / "src" / D.CIFAR10_FOLDER)
    served = tmp_path / "served.tar.gz"
    served.write_bytes(blob)
    cache = tmp_path / "cache"
    ds = D.load_cifar10(cache, download=True, url=served.as_uri(), md5=hashlib.md5(blob).hexdigest(),
                        records_per_file=6)
    assert (cache / D.CIFAR10_ARCHIVE).is_file() and ds.x_train.shape[0] == 30
    # A download whose bytes do not match is not kept.
    cache2 = tmp_path / "cache2"
    with pytest.raises(D.ChecksumError):
        D.load_cifar10(cache2, download=True, url=served.as_uri())
    assert not any(cache2.iterdir())


def test_offline_and_absent_gives_one_clear_error(tmp_path):
    with pytest.raises(D.DataUnavailable) as e:
        D.load_cifar10(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path) in msg and D.CIFAR10_ARCHIVE in msg and D.CIFAR10_MD5 in msg and "\n" not in msg
    # unreachable server (nothing listens on port 9 here)
    with pytest.raises(D.DataUnavailable, match="could not be downloaded") as e:
        D.load_cifar10(tmp_path, download=True, url="http://127.0.0.1:9/cifar-10-binary.tar.gz")
    assert str(tmp_path) in str(e.value)
    assert not (tmp_path / D.CIFAR10_ARCHIVE).exists()


def test_md5_of_matches_hashlib(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc" * 100_000)
    assert D.md5_of(p, chunk=4096) == hashlib.md5(b"abc" * 100_000).hexdigest()


# ----------------------------------------------------------------------------- crops and flips

def test_whole_box_is_bilinear_interpolate_and_flip_is_torch_flip():
    x = torch.rand(3, 2, 8, 8)
    whole = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).expand(3, 4)
    ref = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)
    assert torch.allclose(D.crop_resize(x, whole, 20), ref, atol=1e-5)
    assert torch.allclose(D.resize(x, 20), ref)
    flipped = D.crop_resize(x, whole, 20, torch.tensor([True, False, True]))
    assert torch.allclose(flipped[0], torch.flip(ref[0], dims=[-1]), atol=1e-5)
    assert torch.allclose(flipped[1], ref[1], atol=1e-5)


def test_pixel_aligned_box_is_plain_slicing():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8)
    box = torch.tensor([[2 / 8, 1 / 8, 4 / 8, 4 / 8], [0.0, 4 / 8, 4 / 8, 4 / 8]])
    out = D.crop_resize(x, box, 4)
    assert torch.allclose(out[0], x[0, :, 1:5, 2:6], atol=1e-4)
    assert torch.allclose(out[1], x[1, :, 4:8, 0:4], atol=1e-4)


def test_uint8_input_is_scaled_to_unit_range():
    x = torch.full((1, 3, 4, 4), 255, dtype=torch.uint8)
    assert torch.allclose(D.resize(x, 8), torch.ones(1, 3, 8, 8))


def test_random_boxes_respect_area_and_aspect():
    g = torch.Generator().manual_seed(0)
    H, W = 32, 48
    boxes = D.random_crop_boxes(20_000, H, W, g)
    x0, y0, w, h = boxes.unbind(1)
    area = w * h
    aspect = (w * W) / (h * H)
    full = (w == 1) & (h == 1)
    assert float(full.float().mean()) < 0.01            # the fallback is rare
    a, r = area[~full], aspect[~full]
    assert float(a.min()) >= 0.08 - 1e-6 and float(a.max()) <= 1 + 1e-6
    assert float(r.min()) >= 3 / 4 - 1e-5 and float(r.max()) <= 4 / 3 + 1e-5
    assert bool(((x0 >= 0) & (x0 + w <= 1 + 1e-6) & (y0 >= 0) & (y0 + h <= 1 + 1e-6)).all())
    # on a square image, area is uniform on [0.08, 1] but for the few rejected large crops:
    # the median stays near the middle, 0.54 (a non-square image rejects more large crops)
    _, _, ws, hs = D.random_crop_boxes(20_000, 32, 32, g).unbind(1)
    assert 0.45 < float((ws * hs).median()) < 0.56
    # log aspect is uniform: about half of the crops are wider than tall
    assert 0.4 < float((r > 1).float().mean()) < 0.6


def test_random_resized_crop_is_reproducible_and_flips_half():
    x = torch.rand(4000, 1, 8, 8)
    a = D.random_resized_crop(x, 16, torch.Generator().manual_seed(3))
    b = D.random_resized_crop(x, 16, torch.Generator().manual_seed(3))
    c = D.random_resized_crop(x, 16, torch.Generator().manual_seed(4))
    assert a.shape == (4000, 1, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    # with scale fixed to the whole image, the only randomness is the flip
    whole = D.random_resized_crop(x, 8, torch.Generator().manual_seed(0), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    same = torch.isclose(whole, x, atol=1e-5).flatten(1).all(1)
    mirrored = torch.isclose(whole, torch.flip(x, dims=[-1]), atol=1e-5).flatten(1).all(1)
    assert bool((same | mirrored).all())
    assert 0.45 < float(mirrored.float().mean()) < 0.55
    noflip = D.random_resized_crop(x[:10], 8, torch.Generator().manual_seed(0), scale=(1.0, 1.0),
                                   ratio=(1.0, 1.0), flip=False)
    assert torch.allclose(noflip, x[:10], atol=1e-5)


def test_ten_crops_are_corners_centre_and_mirrors():
    x = torch.rand(2, 1, 16, 16)
    views = D.multi_crop_views(x, 8, crops=10, crop_fraction=0.5)
    assert len(views) == 10 and all(v.shape == (2, 1, 8, 8) for v in views)
    assert torch.allclose(views[0], x[..., 0:8, 0:8], atol=1e-5)      # top-left
    assert torch.allclose(views[3], x[..., 8:16, 8:16], atol=1e-5)    # bottom-right
    assert torch.allclose(views[4], x[..., 4:12, 4:12], atol=1e-5)    # centre
    for k in range(5):
        assert torch.allclose(views[5 + k], torch.flip(views[k], dims=[-1]), atol=1e-5)
    assert len(D.multi_crop_views(x, 8, crops=1)) == 1
    # digits: no mirrors; the second five are the same places at a size halfway to the whole image
    plain = D.multi_crop_views(x, 8, crops=10, crop_fraction=0.5, mirror=False)
    assert all(torch.allclose(plain[k], views[k], atol=1e-5) for k in range(5))
    big = D.crop_resize(x, torch.tensor([[0.0, 0.0, 0.75, 0.75]]).expand(2, 4), 8)
    assert torch.allclose(plain[5], big, atol=1e-5)
    with pytest.raises(ValueError):
        D.multi_crop_views(x, 8, crops=3)


def test_normalize_per_channel():
    x = torch.rand(5, 3, 4, 4)
    out = D.normalize(x, (0.1, 0.2, 0.3), (0.5, 1.0, 2.0))
    assert torch.allclose(out[:, 2], (x[:, 2] - 0.3) / 2.0)
    assert math.isclose(float(out[0, 0, 0, 0]), (float(x[0, 0, 0, 0]) - 0.1) / 0.5, rel_tol=1e-6)


def test_docstrings_name_only_functions_that_exist():
    """A `see \\`name\\`` in a docstring of these modules points at something the module has."""
    import importlib
    import re

    for mod in ("data", "bn_training", "train", "googlenet"):
        m = importlib.import_module(f"widgets.{mod}")
        src = Path(m.__file__).read_text()
        for name in re.findall(r"see `(\w+)`", src):
            assert hasattr(m, name), f"widgets/{mod}.py refers to `{name}`, which does not exist"


def test_the_recorded_split_is_scikit_learns():
    """recordings/digits_split.json (read so that a page does not import scikit-learn) is train_test_split's
    split now. If not: python -m widgets.data --write-split"""
    _, y = D._digits_all()
    train, test = D.sklearn_split(y)
    recorded = D._recorded_split(len(y))
    assert recorded is not None, "missing or stale: python -m widgets.data --write-split"
    assert np.array_equal(recorded[0], train) and np.array_equal(recorded[1], test)


def test_a_split_file_that_does_not_fit_is_not_used(tmp_path, monkeypatch):
    rec = json.loads(D.SPLIT_FILE.read_text())
    bad = [dict(rec, seed=1), dict(rec, n=100), dict(rec, test=rec["test"][:-1]), {"train": "x"}]
    for i, r in enumerate(bad):
        path = tmp_path / f"split{i}.json"
        path.write_text(json.dumps(r))
        monkeypatch.setattr(D, "SPLIT_FILE", path)
        assert D._recorded_split(1797) is None, r.keys()
    monkeypatch.setattr(D, "SPLIT_FILE", tmp_path / "none.json")
    assert D._recorded_split(1797) is None
