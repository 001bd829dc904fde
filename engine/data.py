"""Datasets: a registry, hash-checked downloads into a cache, and named binarization.

``load(name, split)`` returns an :class:`ImageSet` (``.images`` uint8 (N, H, W),
``.labels``, ``.name``) for image data, or a :class:`PointSet` for the 2-D toy
distributions the GAN lab trains on. ``train_heldout(name)`` is what every model
family trains on: a :class:`Split` into training images and held-out images that
are never trained on; :class:`Binarized` presents gray images to a binary model and
:class:`EpochSampler` draws the minibatches.

Files are looked for in ``<root>/<dataset>/<file>`` where root is the ``root``
argument, else ``$GENLAB_DATA``, else the user cache folder. A file already
there is trusted by its *content* (format and dimensions are checked), never
re-downloaded. A missing file is downloaded with pooch into a staging folder,
checked against the canonical hash, parsed, and only then moved into place, so
a failed or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

Progress = Callable[[int, int, str], None]
"""Download progress callback: (bytes done, bytes total or 0 if unknown, file name)."""


class DataError(Exception):
    """Base class for every data-layer error; its message is meant for the user."""


class UnknownDataset(DataError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class DataUnavailable(DataError):
    """The files are not on disk and could not be downloaded."""


class CorruptFile(DataError):
    """A file is on disk (or was downloaded) but its content is not what it should be."""


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class ImageSet:
    """Images as uint8 (N, H, W), 0 = black; labels (N,) or None."""

    images: np.ndarray
    labels: np.ndarray | None
    name: str
    split: str

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of one image."""
        return self.images.shape[1], self.images.shape[2]

    def as_float(self) -> np.ndarray:
        """Intensities in [0, 1] as float32, flattened to (N, H*W)."""
        return self.images.reshape(len(self.images), -1).astype(np.float32) / 255.0


@dataclass(frozen=True)
class PointSet:
    """Samples (N, 2) float32 from a 2-D toy distribution; ``centers`` are its modes, if it has any."""

    points: np.ndarray
    labels: np.ndarray
    name: str
    centers: np.ndarray | None
    mode_std: float | None

    def __len__(self) -> int:
        return len(self.points)


# --------------------------------------------------------------------------- remote files


@dataclass(frozen=True)
class RemoteFile:
    """One file of a downloadable dataset.

    ``known_hash`` guards the download (pooch's ``"md5:..."`` form). Where copies
    of the canonical file differ byte-wise but not in content (the Frey .mat file
    is re-saved by several mirrors), ``content_sha256`` checks the decoded array.
    """

    filename: str
    urls: tuple[str, ...]
    known_hash: str | None = None
    content_sha256: str | None = None


_MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


def _idx_files(bases: tuple[str, ...], hashes: dict[str, str]) -> dict[str, RemoteFile]:
    return {f: RemoteFile(f, tuple(b + f for b in bases), "md5:" + h) for f, h in hashes.items()}


REMOTE: dict[str, dict[str, RemoteFile]] = {
    "mnist": _idx_files(
        _MNIST_URLS,
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion-mnist": _idx_files(
        _FASHION_URLS,
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    "frey": {
        "frey_rawface.mat": RemoteFile(
            "frey_rawface.mat",
            ("https://cs.nyu.edu/~roweis/data/frey_rawface.mat",),
            content_sha256="fbd70c2c992104024a20f4d253da1a1132eb6bf8ed142dccbe7d2b1743b705c4",
        )
    },
}

_IDX_SPLITS = {"train": ("train", 60000), "test": ("t10k", 10000)}
FREY_SHAPE = (28, 20)
FREY_COUNT = 1965
FREY_TEST = 200
"""Frey faces has no official split: the last 200 frames (a contiguous stretch of video) are held out."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root``, else ``$GENLAB_DATA``, else the user cache folder."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("GENLAB_DATA"):
        return Path(os.environ["GENLAB_DATA"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("genlab")) / "data"


# --------------------------------------------------------------------------- parsers


def read_idx(path: Path, expect_dims: tuple[int, ...]) -> np.ndarray:
    """Parse an IDX file (optionally gzipped) of unsigned bytes; check its dimensions.

    ``expect_dims`` is the full shape, e.g. (10000, 28, 28) for images or (10000,)
    for labels. Any mismatch, truncation or bad magic number raises CorruptFile.
    """
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise CorruptFile(f"{path}: cannot be read as a gzipped IDX file ({err}); delete it and fetch it again") from err
    if len(raw) < 4:
        raise CorruptFile(f"{path}: too short to be an IDX file; delete it and fetch it again")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise CorruptFile(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    if tuple(dims) != tuple(expect_dims):
        raise CorruptFile(f"{path}: dimensions {tuple(dims)}, expected {tuple(expect_dims)}")
    body = raw[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)):
        raise CorruptFile(f"{path}: truncated ({len(body)} of {int(np.prod(dims))} bytes); delete it and fetch it again")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def read_frey(path: Path, content_sha256: str | None = None) -> np.ndarray:
    """Parse ``frey_rawface.mat`` (variable ``ff``, (560, 1965) uint8) into faces (1965, 28, 20)."""
    import scipy.io

    try:
        ff = scipy.io.loadmat(path)["ff"]
    except Exception as err:  # scipy raises several unrelated types for bad files
        raise CorruptFile(f"{path}: cannot be read as the Frey faces .mat file ({err})") from err
    if ff.shape != (FREY_SHAPE[0] * FREY_SHAPE[1], FREY_COUNT) or ff.dtype != np.uint8:
        raise CorruptFile(f"{path}: variable 'ff' is {ff.shape} {ff.dtype}, expected (560, 1965) uint8")
    if content_sha256 and hashlib.sha256(np.ascontiguousarray(ff).tobytes()).hexdigest() != content_sha256:
        raise CorruptFile(f"{path}: the faces in this file are not the Frey faces (content hash differs)")
    return np.ascontiguousarray(ff.T.reshape(-1, *FREY_SHAPE))


# --------------------------------------------------------------------------- fetching


class _PoochProgress:
    """Adapter from pooch's progress-bar protocol to a plain callback."""

    def __init__(self, callback: Progress, filename: str):
        self.callback, self.filename, self.total, self.done = callback, filename, 0, 0

    def update(self, n: int) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        self.callback(self.done, self.total, self.filename)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        pass


def _missing_message(name: str, files: list[str], folder: Path, reason: str) -> str:
    listing = "\n".join(f"  - {f}" for f in files)
    return (
        f"{name}: {reason}.\nPut these files in {folder}:\n{listing}\n"
        f"(or run `genlab data fetch {name}` on a machine with internet, "
        f"or point GENLAB_DATA at a folder holding {name}/)"
    )


def _download(name: str, remote: RemoteFile, folder: Path, validate: Callable[[Path], object], progress: Progress | None, needed: list[str]) -> None:
    """Download one file (see ``_download_into``); on failure, remove the folders this call created."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # progress goes through ``progress``, not the log
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _download_into(name, remote, folder, validate, progress, needed)
    except BaseException:
        for made in created:  # a failed download leaves no empty folders behind
            if made.exists() and not any(made.iterdir()):
                made.rmdir()
        raise


def _download_into(name: str, remote: RemoteFile, folder: Path, validate: Callable[[Path], object], progress: Progress | None, needed: list[str]) -> None:
    """Try each mirror through pooch into a staging folder, validate the file, then move it into place."""
    import pooch
    import requests

    errors = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".partial-") as staging:
        for url in remote.urls:
            bar = _PoochProgress(progress, remote.filename) if progress else False
            downloader = pooch.HTTPDownloader(progressbar=bar, timeout=30)
            try:
                fetched = Path(pooch.retrieve(url, remote.known_hash, fname=remote.filename, path=staging, downloader=downloader))
            except (requests.RequestException, OSError) as err:
                errors.append(f"{url}: {type(err).__name__}")
                continue
            except ValueError as err:  # pooch: hash mismatch; it already removed the temporary file
                raise CorruptFile(f"{name}: download of {remote.filename} from {url} failed its checksum ({err}); nothing was kept") from err
            validate(fetched)
            os.replace(fetched, folder / remote.filename)
            return
    raise DataUnavailable(_missing_message(name, needed, folder, "download failed (" + "; ".join(errors) + ")"))


def _ensure(
    name: str, filename: str, root: Path, validate: Callable[[Path], object], download: bool, progress: Progress | None, needed: list[str]
) -> Path:
    """Path of ``filename`` under the data root, downloading it if absent; ``needed`` lists the split's files for messages."""
    folder = root / name
    path = folder / filename
    if not path.exists():
        missing = [f for f in needed if not (folder / f).exists()]
        if not download:
            raise DataUnavailable(_missing_message(name, missing, folder, "files not found and download=False"))
        _download(name, REMOTE[name][filename], folder, validate, progress, missing)
    return path


def _load_idx(name: str, split: str, root: Path, download: bool, progress: Progress | None) -> ImageSet:
    if split not in _IDX_SPLITS:
        raise ValueError(f"{name} has splits 'train' and 'test', not {split!r}")
    prefix, count = _IDX_SPLITS[split]
    img_file, lbl_file = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
    needed = [img_file, lbl_file]
    img_path = _ensure(name, img_file, root, lambda p: read_idx(p, (count, 28, 28)), download, progress, needed)
    lbl_path = _ensure(name, lbl_file, root, lambda p: read_idx(p, (count,)), download, progress, needed)
    return ImageSet(read_idx(img_path, (count, 28, 28)), read_idx(lbl_path, (count,)), name, split)


def _load_frey(split: str, root: Path, download: bool, progress: Progress | None) -> ImageSet:
    remote = REMOTE["frey"]["frey_rawface.mat"]
    path = _ensure("frey", remote.filename, root, lambda p: read_frey(p, remote.content_sha256), download, progress, [remote.filename])
    faces = read_frey(path)
    cut = FREY_COUNT - FREY_TEST
    parts = {"train": faces[:cut], "test": faces[cut:], "all": faces}
    if split not in parts:
        raise ValueError(f"frey has splits {', '.join(parts)}, not {split!r}")
    return ImageSet(parts[split], None, "frey", split)


# --------------------------------------------------------------------------- offline and generated sets


def _load_digits(split: str) -> ImageSet:
    """scikit-learn's bundled 8x8 digits (1797 images, values 0..16), rescaled to uint8."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(images))
    parts = {"train": order[:-300], "test": order[-300:], "all": np.arange(len(images))}
    if split not in parts:
        raise ValueError(f"digits has splits {', '.join(parts)}, not {split!r}")
    idx = parts[split]
    return ImageSet(images[idx], bunch.target[idx].astype(np.uint8), "digits", split)


def bars_and_stripes(size: int = 4) -> ImageSet:
    """Every bars-and-stripes pattern of a size x size grid: 2**(size+1) - 2 distinct images.

    Label 0 marks vertical bars, 1 horizontal stripes; the all-off and all-on
    images (which are both) appear once each, labelled 0.
    """
    if not 2 <= size <= 6:
        raise ValueError(f"bars-stripes size must be 2..6, got {size}")
    bits = (np.arange(2**size)[:, None] >> np.arange(size)[::-1]) & 1
    vertical = np.repeat(bits[:, None, :], size, axis=1)
    horizontal = np.repeat(bits[:, :, None], size, axis=2)[1:-1]  # drop duplicates of all-off and all-on
    images = np.concatenate([vertical, horizontal]).astype(np.uint8) * 255
    labels = np.r_[np.zeros(len(vertical)), np.ones(len(horizontal))].astype(np.uint8)
    return ImageSet(images, labels, "bars-stripes", "all")


TOY_2D = ("ring", "grid", "spiral", "moons", "gaussian")


def toy_points(name: str, n: int = 2000, seed: int = 0) -> PointSet:
    """Samples of a 2-D toy distribution for GANs, reproducible from ``seed``.

    ring: 8 Gaussians (std 0.05) on a circle of radius 2; grid: 25 Gaussians
    (std 0.05) on {-2..2}^2; spiral: a noisy two-turn spiral; moons: two
    interleaved half circles; gaussian: one Gaussian N((1, 1), 0.5^2 I).
    """
    if n < 1:
        raise ValueError(f"need at least one point, got n={n}")
    rng = np.random.default_rng(seed)
    centers, std = None, None
    if name == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        centers, std = 2.0 * np.stack([np.cos(angles), np.sin(angles)], 1), 0.05
    elif name == "grid":
        g = np.arange(-2, 3, dtype=float)
        centers, std = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), 0.05
    elif name == "gaussian":
        centers, std = np.array([[1.0, 1.0]]), 0.5
    if centers is not None:
        labels = rng.integers(len(centers), size=n)
        points = centers[labels] + std * rng.standard_normal((n, 2))
    elif name == "spiral":
        t = np.sqrt(rng.uniform(0, 1, n)) * 4 * np.pi
        points = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (2 * np.pi) + 0.05 * rng.standard_normal((n, 2))
        labels = np.zeros(n, dtype=int)
    elif name == "moons":
        from sklearn.datasets import make_moons

        points, labels = make_moons(n, noise=0.05, random_state=seed)
        points = (points - [0.5, 0.25]) * 1.6
    else:
        raise UnknownDataset(f"unknown 2-D distribution {name!r}; known: {', '.join(TOY_2D)}")
    return PointSet(points.astype(np.float32), labels.astype(np.int64), name, centers, std)


# --------------------------------------------------------------------------- the one entry point

IMAGE_SETS = ("mnist", "fashion-mnist", "frey", "digits", "bars-stripes")
DATASETS = IMAGE_SETS + TOY_2D


def load(
    name: str,
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    progress: Progress | None = None,
    **options,
) -> ImageSet | PointSet:
    """Load a dataset by name (see ``DATASETS``).

    ``options``: ``size`` for bars-stripes (grid side, default 4); ``n`` and
    ``seed`` for the 2-D toy distributions.
    """
    if name in ("mnist", "fashion-mnist"):
        return _load_idx(name, split, data_root(root), download, progress)
    if name == "frey":
        return _load_frey(split, data_root(root), download, progress)
    if name == "digits":
        return _load_digits(split)
    if name == "bars-stripes":
        return bars_and_stripes(**options)
    if name in TOY_2D:
        return toy_points(name, **options)
    raise UnknownDataset(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")


def fetch(name: str, root: str | os.PathLike | None = None, progress: Progress | None = None) -> list[Path]:
    """Download (or validate, when already present) every file of a downloadable dataset."""
    if name not in REMOTE:
        raise UnknownDataset(f"{name!r} has nothing to download; downloadable: {', '.join(REMOTE)}")
    splits = ("all",) if name == "frey" else ("train", "test")
    for split in splits:
        load(name, split, root=root, progress=progress)
    folder = data_root(root) / name
    return [folder / f for f in REMOTE[name]]


# --------------------------------------------------------------------------- binarization

SCHEMES = ("dynamic", "fixed", "threshold", "gray")


class Binarized:
    """Gray images in [0, 1] presented to a binary model under a *named* scheme.

    - ``dynamic``: a fresh Bernoulli sample each time a batch is drawn (each epoch sees new bits);
    - ``fixed``: one Bernoulli sample of the whole set, drawn once from ``seed``;
    - ``threshold``: pixel > 0.5;
    - ``gray``: the intensities themselves, used as Bernoulli means. A likelihood
      computed on these is not a likelihood of binary data: always report the scheme.
    """

    def __init__(self, gray: torch.Tensor, scheme: str, seed: int = 0):
        if scheme not in SCHEMES:
            raise ValueError(f"unknown binarization {scheme!r}; choose one of {', '.join(SCHEMES)}")
        self.scheme, self.gray = scheme, gray
        if scheme == "fixed":
            g = torch.Generator(device=gray.device).manual_seed(seed)
            self.fixed = torch.bernoulli(gray, generator=g)
        elif scheme == "threshold":
            self.fixed = (gray > 0.5).to(gray.dtype)
        else:
            self.fixed = None

    def __len__(self) -> int:
        return len(self.gray)

    def batch(self, index: torch.Tensor | slice, generator: torch.Generator | None = None) -> torch.Tensor:
        """Rows ``index`` under this scheme (a fresh sample for ``dynamic``)."""
        if self.fixed is not None:
            return self.fixed[index]
        if self.scheme == "dynamic":
            return torch.bernoulli(self.gray[index], generator=generator)
        return self.gray[index]


class EpochSampler:
    """Minibatch indices into ``n`` examples: a fresh random permutation (from ``generator``) each epoch.

    A batch never straddles two epochs: when fewer than ``size`` indices are left, a new
    permutation starts (so every batch has ``min(size, n)`` distinct examples).
    """

    def __init__(self, n: int, generator: torch.Generator):
        if n < 1:
            raise ValueError(f"an epoch needs at least one example, got n={n}")
        self.n, self.generator = n, generator
        self.order, self.pos, self.epoch = torch.randperm(n, generator=generator), 0, 0

    def next(self, size: int) -> torch.Tensor:
        """The indices of the next minibatch of ``size`` examples (at most ``n``)."""
        size = min(size, self.n)
        if self.pos + size > self.n:
            self.order, self.pos, self.epoch = torch.randperm(self.n, generator=self.generator), 0, self.epoch + 1
        idx = self.order[self.pos : self.pos + size]
        self.pos += size
        return idx

    @property
    def epochs_done(self) -> float:
        """Passes over the data so far, counting the current one's drawn fraction."""
        return self.epoch + self.pos / self.n


# --------------------------------------------------------------------------- train / held-out splits

SPLIT_SETS = ("mnist", "frey", "digits", "bars-stripes")


@dataclass(frozen=True)
class Split:
    """One dataset cut into images to train on and held-out images that are never trained on: gray levels in
    [0, 1] as flat (N, H*W) float32 tensors, or standardised values (:meth:`standardised`), and where they came from."""

    name: str
    train: torch.Tensor
    heldout: torch.Tensor
    image_shape: tuple[int, int]
    source: str
    """Which files and rows train and which are held out, in words."""
    heldout_file: str
    """Where the held-out images come from, e.g. "MNIST test images"."""
    heldout_first: int | None = None
    """Index in ``heldout_file`` of held-out image 0 when the held-out images are one contiguous block (else None)."""
    train_labels: np.ndarray | None = None
    heldout_labels: np.ndarray | None = None
    offset: float = 0.0
    scale: float = 1.0
    """The rows are (x - offset) / scale of the gray levels x (1 and 0 unless :meth:`standardised`)."""

    def standardised(self) -> Split:
        """Both parts as (x - m) / s with the training pixels' mean m and standard deviation s."""
        offset, scale = float(self.train.mean()), float(self.train.std())
        return replace(self, train=(self.train - offset) / scale, heldout=(self.heldout - offset) / scale, offset=offset, scale=scale)

    def to_image(self, v: torch.Tensor | np.ndarray) -> np.ndarray:
        """Rows (N, H*W) in this split's units as images (N, H, W) of gray levels in [0, 1]."""
        x = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        return np.clip(x * self.scale + self.offset, 0.0, 1.0).reshape(-1, *self.image_shape).astype(np.float32)


def _tensor(images: ImageSet, rows: slice = slice(None)) -> torch.Tensor:
    return torch.from_numpy(images.as_float()[rows])


def _labels(images: ImageSet, rows: slice = slice(None)) -> np.ndarray | None:
    return None if images.labels is None else images.labels[rows].astype(np.int64)


def _on_disk(name: str, split: str, root: str | None) -> ImageSet | None:
    try:
        return load(name, split, root, download=False)
    except DataUnavailable:
        return None


def _mnist_test_cut(test: ImageSet, heldout: int) -> Split:
    cut = len(test) - heldout
    train, held = slice(None, cut), slice(cut, None)
    source = f"MNIST test split only: images 0-{cut - 1} train, {cut}-{len(test) - 1} held out"
    return Split("mnist", _tensor(test, train), _tensor(test, held), test.shape, source, "MNIST test images", cut, _labels(test, train), _labels(test, held))


@functools.lru_cache(maxsize=8)
def train_heldout(name: str, root: str | None = None, download: bool = True, mnist_heldout: int = 1000, mnist_train_split: bool = False) -> Split:
    """The lab's training and held-out images of ``name`` (``SPLIT_SETS``); cached per process, so never modify them.

    - MNIST: the test split (the one available offline), its last ``mnist_heldout`` images held out;
      with ``mnist_train_split`` and both splits on disk (or neither, and downloading allowed), train 60000 / held out test 10000.
    - Frey faces: the data layer's first 1765 frames train, the last 200 held out.
    - 8x8 digits: the data layer's seeded permutation, 1497 train / 300 held out.
    - Bars and stripes 4x4: all 30 patterns, trained on and checked alike.

    ``download=False`` (the pages) raises :class:`DataUnavailable` instead of reaching for the network.
    """
    if name == "mnist":
        if not mnist_train_split:
            return _mnist_test_cut(load("mnist", "test", root=root, download=download), mnist_heldout)
        train, test = _on_disk("mnist", "train", root), _on_disk("mnist", "test", root)
        if test is None:  # nothing on disk: both splits are fetched (when allowed)
            train, test = load("mnist", "train", root, download), load("mnist", "test", root, download)
        if train is None:
            return _mnist_test_cut(test, mnist_heldout)
        source = f"MNIST train ({len(train)}) / test ({len(test)})"
        return Split("mnist", _tensor(train), _tensor(test), test.shape, source, "MNIST test images", 0, _labels(train), _labels(test))
    if name == "frey":
        train, test = load("frey", "train", root, download), load("frey", "test", root, download)
        source = f"Frey faces: first {len(train)} frames train, last {len(test)} held out"
        return Split("frey", _tensor(train), _tensor(test), train.shape, source, f"Frey frames (of 0-{len(train) + len(test) - 1})", len(train))
    if name == "digits":
        train, test = load("digits", "train"), load("digits", "test")
        source = f"scikit-learn 8x8 digits: {len(train)} train, {len(test)} held out"
        held = f"scikit-learn 8x8 digits held out by a seeded permutation (numpy seed 0, {len(test)} images)"
        return Split("digits", _tensor(train), _tensor(test), train.shape, source, held, None, _labels(train), _labels(test))
    if name == "bars-stripes":
        patterns = load("bars-stripes", size=4)
        every = _tensor(patterns)
        return Split("bars-stripes", every, every, patterns.shape, f"bars and stripes 4x4: all {len(patterns)} patterns, trained on and checked alike", "bars-and-stripes patterns", 0, _labels(patterns), _labels(patterns))
    raise UnknownDataset(f"no train / held-out split for {name!r}; known: {', '.join(SPLIT_SETS)}")
