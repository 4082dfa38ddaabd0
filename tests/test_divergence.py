"""A training that diverges stops with an error, and the augmentation strengths that
can make it diverge are bounded at fit (issue 22, item 3)."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.utils._param_validation import Interval  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from skmir.io import Waveforms  # noqa: E402
from skmir.neural import NeuralClassifier  # noqa: E402
from skmir.neural.base import BaseNeuralEstimator  # noqa: E402
from skmir.neural.docstrings import PARAMETERS  # noqa: E402
from skmir.neural.inputs import NOISE_SNR_DB  # noqa: E402
from skmir.nn.augmentation import FrameGrid, WaveformAugmentation  # noqa: E402
from skmir.nn.training import SkmirNet  # noqa: E402

TINY = dict(channels=4, hidden=8, random_state=0, device="cpu")
RNG = np.random.default_rng(0)
Y = np.repeat([0, 1, 2], 8)
S = RNG.normal(size=(24, 16, 20)).astype(np.float32)
W = Waveforms(RNG.normal(0, 0.1, (24, 4000)).astype(np.float32), 8000)

#: The message of a training that diverged: owner, loss, where, cause.
DIVERGED = (r"^{owner}: (train|valid)_loss = (nan|inf|-inf) after batch \d+ of epoch \d+: "
            r"the training diverged\. What can cause it: {causes}.*lower the learning rate")


@pytest.mark.parametrize("name, value, allowed", [
    ("wave_gain", 1e6, "[0, 60]"),
    ("time_stretch", 1e6, "[0, 1]"),
    ("pitch_shift", 13, "[0, 12]"),
    ("gain", 1e3, "[0, 100]"),
])
def test_augmentation_strengths_are_bounded_at_fit(name, value, allowed):
    est = NeuralClassifier("c2-d1", frontend="logmel", max_epochs=1, **TINY)
    lo, hi = allowed[1:-1].split(", ")
    # sklearn's parameter validation: the estimator, the parameter, what is allowed
    # and the value received.
    message = (rf"The '{name}' parameter of NeuralClassifier must be a float in the range "
               rf"\[{lo}(\.0)?, {hi}(\.0)?\]\. Got {value!r} instead")
    with pytest.raises(ValueError, match=message):
        est.set_params(**{name: value}).fit(W, Y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("snr", [-1000, (10, 1000), float("nan")])
def test_noise_snr_is_bounded_at_fit(snr):
    est = NeuralClassifier("c2-d1", frontend="logmel", noise_snr=snr, max_epochs=1, **TINY)
    message = (rf"^NeuralClassifier: noise_snr = {re.escape(repr(snr))}: allowed: None "
               r"\(no noise\), a signal-to-noise ratio in dB within \[-20, 100\]")
    with pytest.raises(ValueError, match=message):
        est.fit(W, Y)
    assert not hasattr(est, "net_")


def test_bounds_are_documented():
    # The Parameters text states each bound that fit checks (one definition: the
    # constraint, or NOISE_SNR_DB).
    for name in ("gain", "wave_gain", "pitch_shift", "time_stretch"):
        interval, = (c for c in BaseNeuralEstimator._parameter_constraints[name]
                     if isinstance(c, Interval))
        assert f"At most {interval.right:g}" in PARAMETERS[name], name
    assert "within [{}, {}] dB".format(*NOISE_SNR_DB) in PARAMETERS["noise_snr"]


def test_bounds_admit_their_limits():
    est = NeuralClassifier("c2-d1", frontend="logmel", wave_gain=60, noise_snr=(-20, 100),
                           max_epochs=1, early_stopping=False, **TINY).fit(W, Y)
    assert np.isfinite(est.predict_proba(W)).all()


def test_learning_rate_that_diverges_raises_and_keeps_no_network():
    est = NeuralClassifier("c2-d1", max_epochs=20, **TINY).fit(S, Y)
    assert hasattr(est, "net_")
    est.set_params(lr=1e6, optimizer="sgd")
    with pytest.raises(ValueError, match=DIVERGED.format(
            owner="NeuralClassifier", causes=r"lr=1000000\.0 \(optimizer SGD\), gain=0\.5")):
        est.fit(S, Y)
    # The earlier fit's network is gone too: nothing predicts with it.
    assert not hasattr(est, "net_")
    with pytest.raises(NotFittedError):
        est.predict_proba(S)


def _net(augmentation=None, **kwargs):
    return SkmirNet(torch.nn.Linear, torch.nn.CrossEntropyLoss, module__in_features=512,
                    module__out_features=2, augmentation=augmentation, max_epochs=2,
                    batch_size=8, train_split=None, callbacks__divergence__owner="Owner",
                    **kwargs)


def test_divergence_names_the_augmentation_strengths():
    # Past the estimators' bounds (the net takes any augmentation): the loss of the
    # first batch is NaN and the error names the strengths in the estimators' terms.
    aug = WaveformAugmentation(FrameGrid(256, centered=True), gain_db=1e6, mixup=0.2, n_classes=2,
                               random_state=0)
    X = RNG.normal(size=(16, 512)).astype(np.float32)
    y = np.repeat([0, 1], 8)
    with pytest.raises(ValueError, match=DIVERGED.format(
            owner="Owner", causes=r"lr=0\.01 \(optimizer SGD\), wave_gain=1000000\.0, "
                                  r"mixup=0\.2;")):
        _net(aug).fit(X, y)


def test_weights_that_stop_being_finite_after_the_last_step_raise():
    # The last optimizer step of an epoch can make the weights NaN with every loss
    # finite: the epoch's end checks the weights.
    class PoisonWeights(Callback):
        def on_batch_end(self, net, training=False, **kwargs):
            with torch.no_grad():
                net.module_.weight[0, 0] = float("nan")

    X = RNG.normal(size=(8, 512)).astype(np.float32)
    with pytest.raises(ValueError, match=r"^Owner: weight weight = nan or inf after the "
                                         r"optimizer steps of epoch 1: the training diverged"):
        _net(callbacks=[PoisonWeights()]).fit(X, np.repeat([0, 1], 4))


def test_prediction_refuses_non_finite_outputs():
    est = NeuralClassifier("c2-d1", max_epochs=1, early_stopping=False, **TINY).fit(S, Y)
    # Finite input that overflows float32 inside the network.
    with pytest.raises(ValueError, match=r"^NeuralClassifier: the network's output is not "
                                         r"finite .* for 2 clip\(s\) of X, first at index "
                                         r"0, whose largest magnitude is 3e\+38: scale X"):
        est.predict_proba(np.full((2, 16, 20), 3e38, np.float32))
    # Weights that are not finite (e.g. loaded from a training that diverged).
    with torch.no_grad():
        next(est.net_.module_.parameters()).fill_(float("inf"))
    message = (r"^NeuralClassifier: the network's output is not finite \(NaN or inf\) for "
               r"24 clip\(s\) of X, first at index 0, whose largest magnitude is .*: scale X")
    with pytest.raises(ValueError, match=message):
        est.predict_proba(S)
    with pytest.raises(ValueError, match=message):
        est.predict(S)
