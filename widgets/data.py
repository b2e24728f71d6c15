"""Data for the lessons: the embedded digits (one loader, one split), CIFAR-10 from its binary archive, and
augmentation that runs on whatever device the batch lives on.

No ipywidgets or plotly here (the views import this module, never the reverse).

* `digits(split)` - the one digits loader: scikit-learn's 1,797 real 8x8 handwritten digits
  (shipped inside scikit-learn, so no network), "all" of them or one side of the fixed,
  class-stratified 80/20 split (`DIGITS_SEED`, `DIGITS_TEST_FRACTION`) that every lesson uses.
* `load_digits_data()` - that split as an `ImageData` for the training engine.
* `load_cifar10(data_dir, download=...)` - CIFAR-10's *binary* version: every record is
  1 label byte + 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, row-major 32x32).
  Plain bytes, no pickle. The archive's md5 is checked before a byte of it is used.
* `random_resized_crop`, `multi_crop_views`, `normalize`, `resize`, ... - augmentation and
  evaluation views on the batch's own device, from widgets.augment (re-exported here).
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported by the loaders that make tensors: lesson 2's digits are NumPy only
    import torch

# --------------------------------------------------------------------------- data sets

DATASETS = ("digits", "cifar10")

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # official, from the data set's page
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the 50,000 training images
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
RECORD_BYTES = 1 + 3 * 32 * 32  # 3,073
CIFAR10_RECORDS_PER_FILE = 10_000  # every data_batch_N.bin and test_batch.bin: 30,730,000 bytes


class DataUnavailable(RuntimeError):
    """The data set is not where we looked and cannot be fetched. The message says where to put it."""


class ChecksumError(RuntimeError):
    """A file's md5 is not the published one (truncated or corrupted download)."""


class BadDataFile(ValueError):
    """A data file is not what its format says (size, labels, archive); the message is one line naming it."""


@dataclass
class ImageData:
    """A labelled image set, images at their native resolution.

    Images are uint8 (0-255) or float32 (0-1) with shape (N, C, H, W); labels int64 (N,).
    They are resized to the model's input size on the device by `resize` or `random_resized_crop`.
    """

    name: str
    classes: list[str]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def native_size(self) -> int:
        return int(self.x_train.shape[-1])

    def to(self, device: torch.device | str) -> "ImageData":
        """The same data set with every tensor on `device` (done once, before training)."""
        return ImageData(self.name, self.classes, self.x_train.to(device), self.y_train.to(device),
                         self.x_test.to(device), self.y_test.to(device), self.mean, self.std, self.source)


DIGITS_SPLITS = ("all", "train", "test")
DIGITS_SEED = 0               # random_state of the split: every page and test sees the same images
DIGITS_TEST_FRACTION = 0.2    # 360 of the 1,797 images are held out for testing


@lru_cache(maxsize=1)
def _digits_all() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits, pixels / 16, and their labels, read from the file scikit-learn ships
    (sklearn/datasets/data/digits.csv.gz: 64 pixels then the label per row) as its load_digits reads
    it, without importing scikit-learn (~2.5 s of a kernel's start; tests/test_startup.py checks the
    two agree). Falls back to load_digits if the file is not where it was."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is not None and path.is_file():
        with gzip.open(path, "rt") as f:
            data = np.loadtxt(f, delimiter=",")
        pixels, labels = data[:, :-1], data[:, -1]
    else:
        from sklearn.datasets import load_digits

        d = load_digits()
        pixels, labels = d.data, d.target
    return pixels.astype(np.float64) / 16.0, labels.astype(np.int64)


# scikit-learn's split of the digits, as its train_test_split makes it (DIGITS_SEED, DIGITS_TEST_FRACTION,
# stratified by class), recorded by `python -m widgets.data --write-split` so that a page does not import
# scikit-learn (1.8 s of lesson 5's start; tests/test_data.py checks the file against scikit-learn).
SPLIT_FILE = Path(__file__).resolve().parent / "recordings" / "digits_split.json"


@lru_cache(maxsize=1)
def _digits_split_indices() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = _digits_all()
    split = _recorded_split(len(y))
    idx_train, idx_test = split if split is not None else sklearn_split(y)
    return x, y, idx_train, idx_test


def sklearn_split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The split itself: scikit-learn's train_test_split over the images' indices."""
    from sklearn.model_selection import train_test_split

    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=DIGITS_TEST_FRACTION,
                                           random_state=DIGITS_SEED, stratify=y)
    return idx_train, idx_test


def _recorded_split(n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """SPLIT_FILE's indices if it records this split of these n images (else None: scikit-learn is asked)."""
    try:
        rec = json.loads(SPLIT_FILE.read_text())
        train, test = np.asarray(rec["train"], dtype=np.int64), np.asarray(rec["test"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    same = (rec.get("n") == n and rec.get("seed") == DIGITS_SEED and rec.get("test_fraction") == DIGITS_TEST_FRACTION
            and train.ndim == test.ndim == 1 and np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n)))
    return (train, test) if same else None


def write_split(path: Path = SPLIT_FILE) -> dict:
    """Record scikit-learn's split (`python -m widgets.data --write-split`)."""
    import sklearn

    _, y = _digits_all()
    train, test = sklearn_split(y)
    rec = {"what": "scikit-learn's train_test_split(np.arange(n), test_size, random_state=seed, stratify=y) "
                   "of its 1,797 digits", "sklearn": sklearn.__version__, "n": len(y), "seed": DIGITS_SEED,
           "test_fraction": DIGITS_TEST_FRACTION, "train": train.tolist(), "test": test.tolist()}
    path.write_text(json.dumps(rec, separators=(",", ":")) + "\n")
    return rec


def digits(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: 1,797 real 8x8 grey images, 10 classes, as (x, y) with x float64
    (N, 64) = pixels / 16 in [0, 1] (row-major 8x8) and y int64 (N,). Fresh arrays on every call.

    split: "all" (1,797, in scikit-learn's order), "train" (1,437) or "test" (360). The split is
    stratified by class, 20% for testing, seed 0 (scikit-learn's `train_test_split(test_size=0.2,
    random_state=0, stratify=y)`), so every page, run and test sees the same images.
    """
    if split not in DIGITS_SPLITS:
        raise ValueError(f"unknown digits split {split!r}: choose one of {', '.join(DIGITS_SPLITS)}")
    if split == "all":   # no split needed: scikit-learn is not imported
        x, y = _digits_all()
        return x.copy(), y.copy()
    x, y, idx_train, idx_test = _digits_split_indices()
    idx = {"train": idx_train, "test": idx_test}[split]
    return x[idx].copy(), y[idx].copy()


def load_digits_data() -> ImageData:
    """The digits for the training engine (lesson 5): the "train" (1,437) and "test" (360) sides of
    `digits`' fixed stratified split, as (N, 1, 8, 8) float32 images in [0, 1]."""
    import torch

    (x_tr, y_tr), (x_te, y_te) = digits("train"), digits("test")
    as_images = lambda x: torch.from_numpy(x.astype(np.float32).reshape(-1, 1, 8, 8))  # noqa: E731
    x_train = as_images(x_tr)
    mean, std = float(x_train.mean()), float(x_train.std())
    return ImageData(
        name="digits", classes=[str(i) for i in range(10)],
        x_train=x_train, y_train=torch.from_numpy(y_tr),
        x_test=as_images(x_te), y_test=torch.from_numpy(y_te),
        mean=(mean,), std=(std,),
        source="scikit-learn digits (UCI optical digits), 8x8 grey, 1,437 train / 360 test",
    )


# --------------------------------------------------------------------------- CIFAR-10 binary


def parse_cifar_records(raw: bytes, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """Bytes of a CIFAR-10 binary batch -> (images uint8 (N, 3, 32, 32), labels int64 (N,)).
    BadDataFile (a ValueError) names the file when the bytes are not whole records or a label is not 0..9."""
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise BadDataFile(f"{name}: {len(raw):,} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records")
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise BadDataFile(f"{name}: label {labels.max()} out of range 0..9 (not a CIFAR-10 binary file?)")
    images = rec[:, 1:].reshape(-1, 3, 32, 32).copy()  # channel planes, each row-major 32x32
    return images, labels


def write_cifar_records(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> None:
    """Write images (N, 3, 32, 32) uint8 and labels in CIFAR-10's binary format (for tests and tools)."""
    images = np.asarray(images, dtype=np.uint8).reshape(len(labels), -1)
    rec = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], images], axis=1)
    Path(path).write_bytes(rec.tobytes())


def md5_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """Where downloads go: $WIDGETS_DATA_DIR, else ~/.cache/widgets."""
    return Path(os.environ.get("WIDGETS_DATA_DIR", Path.home() / ".cache" / "widgets"))


def _where_to_put(data_dir: Path) -> str:
    return (f"put {CIFAR10_ARCHIVE} (md5 {CIFAR10_MD5}, from {CIFAR10_URL}) or its extracted "
            f"{CIFAR10_FOLDER}/ folder (data_batch_1..5.bin, test_batch.bin) in {data_dir}")


def _find_batches(data_dir: Path) -> Path | None:
    for folder in (data_dir / CIFAR10_FOLDER, data_dir):
        if all((folder / f).is_file() for f in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)):
            return folder
    return None


def _check_size(name: str, size: int, records: int) -> None:
    """Refuse a batch of the wrong size before its bytes are read."""
    if size != records * RECORD_BYTES:
        raise BadDataFile(f"{name} has {size:,} bytes; a CIFAR-10 batch file has {records:,} records of "
                          f"{RECORD_BYTES:,} bytes = {records * RECORD_BYTES:,} (truncated or not CIFAR-10?)")


def _read_batches(folder: Path, records: int) -> dict[str, bytes]:
    names = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    for f in names:
        _check_size(f, (folder / f).stat().st_size, records)
    return {f: (folder / f).read_bytes() for f in names}


def _read_archive(archive: Path, md5: str, records: int = CIFAR10_RECORDS_PER_FILE) -> dict[str, bytes]:
    got = md5_of(archive)
    if got != md5:
        raise ChecksumError(f"{archive} has md5 {got}, expected {md5}: the file is corrupted or "
                            f"incomplete; delete it and download it again")
    wanted = {*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE}
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted:
                    _check_size(base, member.size, records)
                    out[base] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BadDataFile(f"{archive} is not a readable tar.gz archive ({exc.__class__.__name__})") from None
    missing = wanted - out.keys()
    if missing:
        raise DataUnavailable(f"{archive} lacks {', '.join(sorted(missing))}")
    return out


def _download(url: str, target: Path, md5: str, timeout: float = 30.0) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r, open(part, "wb") as f:
            shutil.copyfileobj(r, f)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise DataUnavailable(f"CIFAR-10 could not be downloaded from {url} ({reason}); "
                              f"{_where_to_put(target.parent)}") from None
    got = md5_of(part)
    if got != md5:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"the download from {url} has md5 {got}, expected {md5}; nothing was kept")
    part.replace(target)


def load_cifar10(data_dir: str | os.PathLike | None = None, download: bool = True,
                 url: str = CIFAR10_URL, md5: str = CIFAR10_MD5,
                 records_per_file: int = CIFAR10_RECORDS_PER_FILE) -> ImageData:
    """CIFAR-10 (50,000 train / 10,000 test 32x32 colour images) from its binary version.

    Looks in `data_dir` (default: the cache dir) for the extracted batch files, then for the
    archive (md5 checked); if neither is there and `download` is true, downloads the archive
    into `data_dir` and checks it. Offline and absent -> one `DataUnavailable` saying where to
    put the files. A batch of another size than `records_per_file` records (checked before it is
    read), a label outside 0..9 or an unreadable archive -> one `BadDataFile` line naming the file.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_cache_dir()
    folder = _find_batches(data_dir)
    if folder is not None:
        raw = _read_batches(folder, records_per_file)
        source = f"CIFAR-10 binary batches in {folder}"
    else:
        archive = data_dir / CIFAR10_ARCHIVE
        if not archive.is_file():
            if not download:
                raise DataUnavailable(f"CIFAR-10 is not in {data_dir}: {_where_to_put(data_dir)}")
            _download(url, archive, md5)
        raw = _read_archive(archive, md5, records_per_file)
        source = f"CIFAR-10 archive {archive} (md5 verified)"
    parts = [parse_cifar_records(raw[f], f) for f in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = parse_cifar_records(raw[CIFAR10_TEST_FILE], CIFAR10_TEST_FILE)
    import torch

    return ImageData(
        name="cifar10", classes=list(CIFAR10_CLASSES),
        x_train=torch.from_numpy(x_train), y_train=torch.from_numpy(y_train),
        x_test=torch.from_numpy(x_test), y_test=torch.from_numpy(y_test),
        mean=CIFAR10_MEAN, std=CIFAR10_STD, source=source,
    )


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, download: bool = True) -> ImageData:
    if name == "digits":
        return load_digits_data()
    if name == "cifar10":
        return load_cifar10(data_dir, download=download)
    raise ValueError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}")


# --------------------------------------------------------------------------- on-device transforms (widgets.augment)

# Imported on first use (PEP 562): widgets.augment imports torch, which digits() does not need.
_AUGMENT = ("crop_resize", "five_boxes", "multi_crop_views", "normalize", "random_crop_boxes", "random_resized_crop",
            "resize", "ten_crop_boxes", "tile_images")


def __getattr__(name: str):
    if name in _AUGMENT:
        from widgets import augment

        return getattr(augment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["DATASETS", "DIGITS_SPLITS", "ImageData", "DataUnavailable", "ChecksumError", "BadDataFile", "digits",
           "load_digits_data", "load_cifar10", "load_dataset", "parse_cifar_records", "write_cifar_records", "md5_of",
           "default_cache_dir", "normalize", "crop_resize", "random_crop_boxes", "random_resized_crop", "resize",
           "five_boxes", "ten_crop_boxes", "multi_crop_views", "tile_images"]


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Record scikit-learn's split of the digits into " + str(SPLIT_FILE))
    ap.add_argument("--write-split", action="store_true", help="write the file (else: say whether it is current)")
    args = ap.parse_args()
    if args.write_split:
        print(f"wrote {SPLIT_FILE}: {len(write_split()['test'])} test images")
    else:
        print("current" if _recorded_split(len(_digits_all()[1])) is not None else "missing or not this split")
