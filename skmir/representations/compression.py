"""Log compression of magnitudes (the paper's sec. 5.1), with the representations it
follows: elementwise and stateless, and computed by torch with ``backend="torch"``
as they are."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from skmir._validation import NamedRefusals, check_spectrograms
from skmir.representations.base import (
    EXECUTION,
    POSITIVE,
    TORCH_BLOCK_SAMPLES,
    check_torch_backend,
    torch_transform,
)


class LogCompression(NamedRefusals, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Log compression of magnitudes: ``log(X + eps)``, or decibels.

    The paper (sec. 5.1) recommends compressing the dynamic range of spectrograms
    before a network sees them. ``method="db"`` gives the values of
    :func:`librosa.power_to_db` (``power=2``) or :func:`librosa.amplitude_to_db`
    (``power=1``) applied clip by clip, with ``top_db`` measured from each clip's
    own peak.

    Parameters
    ----------
    method : {"log", "db"}, default="log"
        ``"log"``: natural ``log(X + eps)``. ``"db"``: ``(20 / power) * log10(max(X,
        amin) / ref)``, clipped at ``top_db`` below each clip's peak.
    eps : float, default=1e-6
        Offset of ``"log"`` that keeps silence finite.
    power : float, default=2.0
        ``"db"`` only: exponent of the magnitude that X holds (the representation's
        ``power``): 2 for power spectrograms (10 log10), 1 for magnitudes (20 log10).
    ref : float, default=1.0
        ``"db"`` only: reference value mapped to 0 dB.
    amin : float, default=1e-10
        ``"db"`` only: floor of X before the logarithm.
    top_db : float or None, default=80.0
        ``"db"`` only: dynamic range kept below each clip's peak; None keeps all.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"``: librosa's formulas in numpy on the CPU (the name is the
        representations' so that one ``backend`` switches a whole pipeline);
        ``"torch"``: the same values with
        :class:`skmir.nn.representations.LogCompression` on ``device``, batch by batch.
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import LogCompression
    >>> X = np.array([[[1.0, 100.0]]], dtype="float32")
    >>> LogCompression(method="db").fit_transform(X).round(3)
    array([[[ 0., 20.]]], dtype=float32)
    """

    _parameter_constraints = {
        "method": [StrOptions({"log", "db"})],
        "eps": [POSITIVE],
        "power": [POSITIVE],
        "ref": [POSITIVE],
        "amin": [POSITIVE],
        "top_db": [Interval(Real, 0, None, closed="left"), None],
        "backend": EXECUTION["backend"],
        "device": EXECUTION["device"],
    }

    def __init__(self, method="log", eps=1e-6, power=2.0, ref=1.0, amin=1e-10, top_db=80.0,
                 backend="librosa", device="auto"):
        self.method = method
        self.eps = eps
        self.power = power
        self.ref = ref
        self.amin = amin
        self.top_db = top_db
        self.backend = backend
        self.device = device

    def torch_stages(self):
        """The torch computation: ``[log]`` or ``[db]`` with these parameters."""
        if self.method == "log":
            return [("log", {"eps": self.eps})]
        return [("db", {"power": self.power, "ref": self.ref, "amin": self.amin,
                        "top_db": self.top_db})]

    def fit(self, X, y=None):
        """Check the parameters and the input; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames]) or 4-D with channels
            Non-negative magnitudes or powers.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        check_torch_backend(self)
        self._check_input(X, reset=True)
        return self

    def _check_input(self, X, reset):
        X = check_spectrograms(self, X, reset=reset)
        if X.min() < 0:
            raise ValueError(
                "Negative values in data passed to LogCompression: it expects "
                f"non-negative magnitudes or powers, and X has values "
                f"down to {X.min():.4g}. Compress the output of a representation (STFT, "
                "MelSpectrogram, CQT), not standardised or log-compressed data."
            )
        return X

    def transform(self, X):
        """Compress X.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames]) or 4-D with channels
            Non-negative magnitudes or powers.

        Returns
        -------
        X_log : ndarray of float32, same shape as X
        """
        self._validate_params()
        X = self._check_input(X, reset=None)
        if self.backend == "torch":
            return torch_transform(self, X)
        if self.method == "log":
            return np.log(X + np.float32(self.eps)).astype(np.float32, copy=False)
        scale = np.float32(20.0 / self.power)
        out = np.maximum(X, np.float32(self.amin))
        np.log10(out, out=out)
        out -= np.float32(np.log10(max(self.amin, self.ref)))
        out *= scale
        if self.top_db is not None:
            peak = out.reshape(len(out), -1).max(axis=1).reshape((-1,) + (1,) * (X.ndim - 1))
            np.maximum(out, peak - np.float32(self.top_db), out=out)
        return out

    def _block_samples(self):
        # Elementwise: no temporaries to keep in cache, so the device's batches.
        return TORCH_BLOCK_SAMPLES

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
