"""The data layer: IDX and .mat parsing, downloads against a loopback server, real files, binarization."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from engine import data

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> bytes:
    """Write an IDX file of unsigned bytes (the MNIST format) and return its bytes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    payload = gzip.compress(raw) if compress else raw
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return payload


def fake_mnist(folder: Path, prefix: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


# --------------------------------------------------------------------------- parsing files on disk


def test_idx_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_IDX_SPLITS", {"train": ("train", 7), "test": ("t10k", 5)})
    images, labels = fake_mnist(tmp_path / "mnist", "t10k", 5)
    got = data.load("mnist", "test", root=tmp_path, download=False)
    assert got.images.shape == (5, 28, 28) and got.images.dtype == np.uint8
    np.testing.assert_array_equal(got.images, images)
    np.testing.assert_array_equal(got.labels, labels)
    assert got.name == "mnist" and got.split == "test"


def test_uncompressed_idx_is_read(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x.idx", arr, compress=False)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x.idx", (2, 3, 4)), arr)


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda b: b[: len(b) // 2], "cannot be read"),  # truncated gzip stream
        (lambda b: b"not a gzip file at all", "cannot be read"),
    ],
)
def test_corrupt_idx_names_the_file(tmp_path, damage, needle):
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    payload = write_idx(path, np.zeros((3, 28, 28), np.uint8))
    path.write_bytes(damage(payload))
    with pytest.raises(data.CorruptFile, match=needle) as err:
        data.read_idx(path, (3, 28, 28))
    assert str(path) in str(err.value)


def test_idx_with_wrong_dimensions_or_missing_bytes(tmp_path):
    path = tmp_path / "a.gz"
    write_idx(path, np.zeros((3, 28, 27), np.uint8))
    with pytest.raises(data.CorruptFile, match=r"dimensions \(3, 28, 27\), expected \(3, 28, 28\)"):
        data.read_idx(path, (3, 28, 28))
    raw = struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 10) + bytes(4)
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(data.CorruptFile, match=r"truncated \(4 of 10 bytes\)"):
        data.read_idx(path, (10,))


def test_frey_mat_parsing_and_content_hash(tmp_path):
    faces = np.random.default_rng(1).integers(0, 256, size=(data.FREY_COUNT, 28, 20), dtype=np.uint8)
    ff = faces.reshape(data.FREY_COUNT, -1).T  # (560, 1965): each column one face, row-major
    scipy.io.savemat(tmp_path / "f.mat", {"ff": ff})
    np.testing.assert_array_equal(data.read_frey(tmp_path / "f.mat"), faces)
    good = hashlib.sha256(np.ascontiguousarray(ff).tobytes()).hexdigest()
    assert data.read_frey(tmp_path / "f.mat", good).shape == (1965, 28, 20)
    with pytest.raises(data.CorruptFile, match="content hash differs"):
        data.read_frey(tmp_path / "f.mat", "0" * 64)
    scipy.io.savemat(tmp_path / "g.mat", {"ff": ff[:, :10]})
    with pytest.raises(data.CorruptFile, match=r"\(560, 10\)"):
        data.read_frey(tmp_path / "g.mat")


def test_missing_files_without_download_name_files_and_folder(tmp_path):
    with pytest.raises(data.DataUnavailable) as err:
        data.load("mnist", "test", root=tmp_path, download=False)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "mnist") in msg


def test_unknown_dataset_lists_known_names():
    with pytest.raises(data.UnknownDataset) as err:
        data.load("cifar")
    for name in ("mnist", "fashion-mnist", "frey", "digits", "bars-stripes", "ring"):
        assert name in str(err.value)


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "env"))
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_root() == tmp_path / "env"
    monkeypatch.delenv("GENLAB_DATA")
    assert data.data_root().name == "data" and "genlab" in str(data.data_root())


# --------------------------------------------------------------------------- downloads over loopback


@pytest.fixture
def http_folder(tmp_path):
    """Serve ``tmp_path/www`` on a loopback port; yields (folder, base URL)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def serve_mnist(monkeypatch, www: Path, base: str, n: int = 4, corrupt_hash: bool = False) -> np.ndarray:
    """Put a small fake MNIST test split on the server and point the registry at it."""
    monkeypatch.setattr(data, "_IDX_SPLITS", {"train": ("train", n), "test": ("t10k", n)})
    images, _ = fake_mnist(www, "t10k", n)
    files = {}
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        md5 = hashlib.md5((www / f).read_bytes()).hexdigest()
        files[f] = replace(data.REMOTE["mnist"][f], urls=(base + f,), known_hash="md5:" + ("0" * 32 if corrupt_hash else md5))
    monkeypatch.setitem(data.REMOTE, "mnist", {**data.REMOTE["mnist"], **files})
    return images


def test_download_checks_hash_and_reports_progress(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    images = serve_mnist(monkeypatch, www, base)
    seen = []
    got = data.load("mnist", "test", root=tmp_path / "cache", progress=lambda done, total, f: seen.append((done, total, f)))
    np.testing.assert_array_equal(got.images, images)
    assert {f for _, _, f in seen} == {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    last = [s for s in seen if s[2] == "t10k-images-idx3-ubyte.gz"][-1]
    assert last[0] == last[1] == (www / "t10k-images-idx3-ubyte.gz").stat().st_size
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_checksum_mismatch_leaves_nothing_in_the_cache(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    serve_mnist(monkeypatch, www, base, corrupt_hash=True)
    with pytest.raises(data.CorruptFile, match="checksum"):
        data.load("mnist", "test", root=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # not even the folders the failed download made


def test_download_whose_content_is_wrong_leaves_nothing(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    serve_mnist(monkeypatch, www, base)
    monkeypatch.setattr(data, "_IDX_SPLITS", {"train": ("train", 5), "test": ("t10k", 5)})  # server has 4 images
    with pytest.raises(data.CorruptFile, match="dimensions"):
        data.load("mnist", "test", root=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # not even the folders the failed download made


def test_unreachable_server_names_files_and_folder(tmp_path, http_folder, monkeypatch):
    www, base = http_folder
    serve_mnist(monkeypatch, www, base)
    for f in list(www.iterdir()):
        f.unlink()  # the server answers 404
    with pytest.raises(data.DataUnavailable) as err:
        data.load("mnist", "test", root=tmp_path / "cache")
    assert "t10k-images-idx3-ubyte.gz" in str(err.value) and str(tmp_path / "cache" / "mnist") in str(err.value)
    assert not (tmp_path / "cache").exists()  # not even the folders the failed download made


def test_file_present_is_validated_by_content_not_hash(tmp_path, monkeypatch):
    """A present file whose bytes differ from the canonical ones (re-encoded) is used, not re-downloaded."""
    monkeypatch.setattr(data, "_IDX_SPLITS", {"train": ("train", 3), "test": ("t10k", 3)})
    images, _ = fake_mnist(tmp_path / "mnist", "t10k", 3)
    monkeypatch.setitem(data.REMOTE, "mnist", {f: replace(r, urls=("http://127.0.0.1:9/never",)) for f, r in data.REMOTE["mnist"].items()})
    np.testing.assert_array_equal(data.load("mnist", "test", root=tmp_path).images, images)


# --------------------------------------------------------------------------- the real files, when present

needs_shared = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="../shared/data is absent")


@needs_shared
def test_real_mnist_test_split():
    s = data.load("mnist", "test", root=SHARED, download=False)
    assert s.images.shape == (10000, 28, 28) and s.images.dtype == np.uint8
    assert s.labels.shape == (10000,) and set(np.unique(s.labels)) == set(range(10))
    assert s.labels[:5].tolist() == [7, 2, 1, 0, 4]


@needs_shared
def test_real_frey_faces_reencoded_copy_is_accepted():
    s = data.load("frey", "all", root=SHARED, download=False)
    assert s.images.shape == (1965, 28, 20) and s.labels is None
    assert data.load("frey", "train", root=SHARED).images.shape == (1765, 28, 20)
    assert data.load("frey", "test", root=SHARED).images.shape == (200, 28, 20)


# --------------------------------------------------------------------------- generated and bundled sets


@pytest.mark.parametrize("size", [2, 3, 4])
def test_bars_and_stripes_is_every_pattern_once(size):
    s = data.load("bars-stripes", size=size)
    assert len(s) == 2 ** (size + 1) - 2
    flat = {img.tobytes() for img in s.images}
    assert len(flat) == len(s)  # all distinct
    for img in s.images // 255:
        assert (img == img[0:1, :]).all() or (img == img[:, 0:1]).all()  # constant columns or rows


def test_digits_offline():
    s = data.load("digits", "all")
    assert s.images.shape == (1797, 8, 8) and s.images.max() == 255
    assert len(data.load("digits", "train")) + len(data.load("digits", "test")) == 1797


@pytest.mark.parametrize("name", data.TOY_2D)
def test_toy_points_reproducible(name):
    a, b = data.load(name, n=500, seed=3), data.load(name, n=500, seed=3)
    assert a.points.shape == (500, 2) and a.points.dtype == np.float32
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, data.load(name, n=500, seed=4).points)


def test_ring_modes_are_where_they_should_be():
    s = data.toy_points("ring", n=4000, seed=0)
    assert s.centers.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(s.centers, axis=1), 2.0)
    dist = np.linalg.norm(s.points - s.centers[s.labels], axis=1)
    assert np.mean(dist) == pytest.approx(0.05 * np.sqrt(np.pi / 2), rel=0.05)  # mean of a Rayleigh(0.05)


# --------------------------------------------------------------------------- binarization


def test_binarization_schemes():
    gray = torch.full((2000, 10), 0.3)
    gray[:, 0] = 0.7
    fixed = data.Binarized(gray, "fixed", seed=1)
    torch.testing.assert_close(fixed.batch(slice(None)), data.Binarized(gray, "fixed", seed=1).batch(slice(None)))
    assert fixed.batch(slice(None)).mean().item() == pytest.approx(0.34, abs=0.01)
    thr = data.Binarized(gray, "threshold").batch(slice(None))
    assert thr[:, 0].eq(1).all() and thr[:, 1:].eq(0).all()
    dyn = data.Binarized(gray, "dynamic")
    g = torch.Generator().manual_seed(0)
    first, second = dyn.batch(slice(None), g), dyn.batch(slice(None), g)
    assert not torch.equal(first, second) and set(first.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(data.Binarized(gray, "gray").batch(slice(0, 5)), gray[:5])
    with pytest.raises(ValueError, match="dynamic, fixed, threshold, gray"):
        data.Binarized(gray, "stochastic")
