"""Synthetic NPZ fixture for the TEST-PYTORCH-001 workload (see FORMAT-001 in docs/findings.md).

Everything the workload test needs lives in this directory, so `tests/torch/`
can be copied on its own into a scratch workspace and run there.

Layout of the fixture (FORMAT-001):

- `diffraction`: float32, shape (N, H, W) -- one single-channel pattern per
  sample, sample axis first; the channel axis is added by the loader, never
  stored;
- `targets`: float32, shape (N, 2) -- the (row, col) centre of the pattern's
  peak, scaled to [-1, 1].

The generator is deterministic (one `numpy.random.default_rng(seed)`), so the
same arguments always give byte-identical arrays.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE_SEED = 20261102
N_SAMPLES = 320
SIZE = 16


def write_synthetic_fixture(path: Path, *, n_samples: int = N_SAMPLES, size: int = SIZE, seed: int = FIXTURE_SEED) -> Path:
    """Write a deterministic NPZ of Gaussian peaks on a noisy background and their centres."""
    import numpy as np

    rng = np.random.default_rng(seed)
    margin = 3.0
    centres = rng.uniform(margin, size - 1 - margin, size=(n_samples, 2))
    widths = rng.uniform(1.2, 2.0, size=(n_samples, 1, 1))
    rows = np.arange(size, dtype=np.float64)[None, :, None]
    cols = np.arange(size, dtype=np.float64)[None, None, :]
    dist2 = (rows - centres[:, 0, None, None]) ** 2 + (cols - centres[:, 1, None, None]) ** 2
    patterns = np.exp(-dist2 / (2.0 * widths**2))
    patterns += 0.05 * rng.standard_normal(patterns.shape)
    targets = (centres - (size - 1) / 2.0) / ((size - 1) / 2.0 - margin)

    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, diffraction=patterns.astype(np.float32), targets=targets.astype(np.float32))
    return path


@pytest.fixture
def synthetic_npz(tmp_path: Path) -> Path:
    """The synthetic fixture written under this test's tmp_path."""
    return write_synthetic_fixture(tmp_path / "data" / "synthetic_diffraction.npz")
