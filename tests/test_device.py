"""A device parameter is checked once, before any tensor is made, and refused clearly."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import skmir  # noqa: E402
from skmir.nn.device import resolve_device  # noqa: E402

CUDA = torch.cuda.is_available()


@pytest.mark.parametrize("device, match", [
    ("meta", "device='meta' is a 'meta' device; skmir runs on 'auto', 'cpu', 'cuda'"),
    ("mps", r"device='mps' is a 'mps' device \(skmir needs float64, which MPS lacks\)"),
    ("gpu", "device='gpu' is not a torch device; use 'auto', 'cpu', 'cuda'"),
    ("cuda:99", "device='cuda:99', but " + ("CUDA is not available here" if not CUDA
                                            else r"torch sees \d+ CUDA device")),
])
def test_devices_that_cannot_work_are_refused_with_the_owner(device, match):
    with pytest.raises(ValueError, match=f"^Owner: {match}"):
        resolve_device(device, owner="Owner")


@pytest.mark.skipif(CUDA, reason="a machine without CUDA")
@pytest.mark.parametrize("make", [
    lambda d: skmir.NeuralClassifier("c2-d2", device=d, max_epochs=1),
    lambda d: skmir.NeuralClassifier("c2-d2", frontend="logmel", device=d, max_epochs=1),
    lambda d: skmir.RandomWeightsFeatures(device=d),
    lambda d: skmir.MelSpectrogram(backend="torch", device=d),
])
def test_every_torch_entry_point_names_itself_and_its_device(make):
    X = np.zeros((4, 8, 6), np.float32)
    est = make("cuda")
    if "frontend" in est.get_params() and est.frontend is not None or isinstance(
            est, skmir.MelSpectrogram):
        X = np.zeros((4, 4096), np.float32)
    with pytest.raises(ValueError, match=f"^{type(est).__name__}: device='cuda', but CUDA"):
        est.fit(X, [0, 1, 0, 1]) if hasattr(est, "predict") else est.fit_transform(X)
    with pytest.raises(ValueError, match=f"^{type(est).__name__}: device='meta'"):
        est = make("meta")
        est.fit(X, [0, 1, 0, 1]) if hasattr(est, "predict") else est.fit_transform(X)
