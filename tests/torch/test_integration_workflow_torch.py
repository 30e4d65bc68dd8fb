"""TEST-PYTORCH-001: the Lightning train -> save -> load -> infer regression (CPU).

Selector (the plan's D1 row runs it through `ledger do TEST-PYTORCH-001 D1`):

    CUDA_VISIBLE_DEVICES="" pytest tests/torch/test_integration_workflow_torch.py::test_run_pytorch_train_save_load_infer -vv

A tiny convolutional regressor learns where the peak of a synthetic pattern is
(the NPZ fixture from `conftest.py`, FORMAT-001 layout), for two epochs with a
seeded, deterministic `lightning.Trainer` on CPU. The checkpoint is saved,
loaded back with `load_from_checkpoint`, and both models run inference on the
held-out samples: their outputs must be identical. torch is a mandatory
dependency of this workload (POLICY-001) but not of `ledger`, so the module is
skipped where torch or lightning is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
L = pytest.importorskip("lightning")

from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

SEED = 7
EPOCHS = 2
N_TRAIN = 256
BATCH_SIZE = 32

pytestmark = [
    # Single-process data loading is deliberate here: the data is a few KB.
    pytest.mark.filterwarnings("ignore:.*does not have many workers.*"),
    pytest.mark.filterwarnings("ignore:.*smaller than the logging interval.*"),
    # Lightning's own use of a torch pytree API deprecated in newer torch builds.
    pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\).*"),
]


class PeakRegressor(L.LightningModule):
    """Conv -> ReLU -> Linear: the (row, col) of a pattern's peak, in [-1, 1]."""

    def __init__(self, size: int = 16, channels: int = 8, lr: float = 1e-2):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(channels * ((size + 1) // 2) ** 2, 2),
        )
        self.epoch_losses: list[float] = []
        self._batch_losses: list[torch.Tensor] = []

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self._batch_losses.append(loss.detach())
        return loss

    def on_train_epoch_end(self):
        self.epoch_losses.append(torch.stack(self._batch_losses).mean().item())
        self._batch_losses.clear()

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch[0])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def _load_fixture(path):
    """The FORMAT-001 layout: diffraction (N, H, W) float32, targets (N, 2) float32."""
    with np.load(path) as data:
        diffraction, targets = data["diffraction"], data["targets"]
    assert diffraction.ndim == 3 and diffraction.dtype == np.float32, (diffraction.shape, diffraction.dtype)
    assert targets.shape == (diffraction.shape[0], 2) and targets.dtype == np.float32, (targets.shape, targets.dtype)
    # The channel axis is added here, never stored in the fixture.
    return torch.from_numpy(diffraction).unsqueeze(1), torch.from_numpy(targets)


def _trainer(root, **kwargs):
    return L.Trainer(
        accelerator="cpu",
        devices=1,
        deterministic=True,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=root,
        **kwargs,
    )


def _infer(model, x, root):
    """Batched inference through `Trainer.predict` (eval mode, no grad)."""
    loader = DataLoader(TensorDataset(x), batch_size=BATCH_SIZE, shuffle=False)
    batches = _trainer(root).predict(model, dataloaders=loader)
    return torch.cat(batches)


@pytest.fixture
def deterministic_torch():
    """Lightning's deterministic=True switches torch's global flag on; put it back afterwards."""
    before = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(before)
    torch.set_num_threads(threads)


def test_run_pytorch_train_save_load_infer(synthetic_npz, tmp_path, deterministic_torch):
    L.seed_everything(SEED, workers=True, verbose=False)
    x, y = _load_fixture(synthetic_npz)
    x_train, y_train = x[:N_TRAIN], y[:N_TRAIN]
    x_test, y_test = x[N_TRAIN:], y[N_TRAIN:]
    assert len(x_test) > 0

    # Train.
    model = PeakRegressor(size=x.shape[-1])
    with torch.no_grad():
        initial_mse = nn.functional.mse_loss(model(x_test), y_test).item()
    generator = torch.Generator().manual_seed(SEED)
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=BATCH_SIZE, shuffle=True, generator=generator)
    trainer = _trainer(tmp_path, max_epochs=EPOCHS, log_every_n_steps=1)
    trainer.fit(model, train_dataloaders=train_loader)
    assert trainer.current_epoch == EPOCHS
    assert len(model.epoch_losses) == EPOCHS
    assert model.epoch_losses[-1] < model.epoch_losses[0], model.epoch_losses

    # Save.
    checkpoint = tmp_path / "checkpoints" / "peak_regressor.ckpt"
    checkpoint.parent.mkdir()
    trainer.save_checkpoint(checkpoint)
    assert checkpoint.is_file() and checkpoint.stat().st_size > 0

    # Load.
    reloaded = PeakRegressor.load_from_checkpoint(checkpoint, map_location="cpu")
    assert reloaded.hparams == model.hparams
    for (name, trained_param), (_, reloaded_param) in zip(model.state_dict().items(), reloaded.state_dict().items()):
        torch.testing.assert_close(reloaded_param, trained_param, rtol=0, atol=0, msg=name)

    # Infer on the held-out samples, with both models.
    trained_out = _infer(model, x_test, tmp_path)
    reloaded_out = _infer(reloaded, x_test, tmp_path)
    assert trained_out.shape == (len(x_test), 2) and trained_out.dtype == torch.float32
    torch.testing.assert_close(reloaded_out, trained_out, rtol=0, atol=0)
    held_out_mse = nn.functional.mse_loss(reloaded_out, y_test).item()
    assert held_out_mse < initial_mse, (held_out_mse, initial_mse)

    output = tmp_path / "inference" / "predictions.npz"
    output.parent.mkdir()
    np.savez(output, predictions=reloaded_out.numpy(), targets=y_test.numpy())
    assert output.is_file() and output.stat().st_size > 0
    with np.load(output) as saved:
        assert saved["predictions"].shape == (len(x_test), 2)
        assert saved["predictions"].dtype == np.float32
        np.testing.assert_array_equal(saved["predictions"], trained_out.numpy())
