"""Preprocessing of time-frequency input (the paper's sec. 5.1) and time summaries.

Standardisation and whitening sit between a representation and a model (log
compression, elementwise and stateless, lives with the representations:
:class:`skmir.representations.LogCompression`);
:class:`TimeSummary` turns ``(n_clips, n_bins, n_frames)`` into the 2-D feature
matrix that shallow sklearn models take (the conventional pipeline of fig. 2(a)).
All accept 2-D ``(n_clips, n_bins)`` (one frame per clip), 3-D
``(n_clips, n_bins, n_frames)`` and 4-D ``(n_clips, n_channels, n_bins, n_frames)``
input, and return float32.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmir._validation import NamedRefusals, check_spectrograms

# Clips per block when accumulating statistics: bounds the temporaries of fit.
_BLOCK = 64


def _as_bins_frames(X):
    """View X as (n_clips, n_rows, n_frames), where rows are (channel, bin) pairs."""
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim == 4:
        return X.reshape(X.shape[0], X.shape[1] * X.shape[2], X.shape[3])
    return X


def _row_mean(rows):
    """Mean of each row over clips and frames, accumulated in float64 block by block."""
    total = np.zeros(rows.shape[1])
    for i in range(0, len(rows), _BLOCK):
        total += rows[i:i + _BLOCK].sum(axis=(0, 2), dtype=np.float64)
    return total / (len(rows) * rows.shape[2])


class SpectrogramScaler(NamedRefusals, TransformerMixin, BaseEstimator):
    """Standardise each frequency bin to zero mean and unit variance.

    The paper's standardisation (sec. 5.1): statistics per bin (and per channel),
    pooled over all clips and frames of the training data, so that the relative
    levels of frames and clips are kept.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract each bin's mean.
    with_std : bool, default=True
        Divide by each bin's standard deviation (bins with zero variance are left
        unscaled).

    Attributes
    ----------
    mean_ : ndarray of float32, shape (n_bins,) or (n_channels, n_bins)
    scale_ : ndarray of float32, same shape as ``mean_``
    n_features_in_ : int
        ``X.shape[1]`` at fit (bins, or channels for 4-D input).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import SpectrogramScaler
    >>> X = np.random.default_rng(0).normal(5, 2, (10, 4, 50)).astype("float32")
    >>> Z = SpectrogramScaler().fit_transform(X)
    >>> np.allclose(Z.mean(axis=(0, 2)), 0, atol=1e-5), np.allclose(Z.std(axis=(0, 2)), 1)
    (True, True)
    """

    _parameter_constraints = {"with_mean": ["boolean"], "with_std": ["boolean"]}

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Learn the per-bin mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames]) or 4-D with channels
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = check_spectrograms(self, X, reset=True)
        rows = _as_bins_frames(X)
        n_rows = rows.shape[1]
        count = len(rows) * rows.shape[2]
        # Two passes over blocks of clips in float64 accumulators: exact statistics
        # without a float64 copy of the whole array.
        mean = _row_mean(rows)
        sq = np.zeros(n_rows)
        for i in range(0, len(rows), _BLOCK):
            d = rows[i:i + _BLOCK] - mean[None, :, None].astype(np.float32)
            sq += np.einsum("ijk,ijk->j", d, d, dtype=np.float64)
        std = np.sqrt(sq / count)
        # Bins with (numerically) constant values would blow up: leave them unscaled.
        std[std < 10 * np.finfo(np.float32).eps * np.maximum(1.0, np.abs(mean))] = 1.0
        shape = X.shape[1:-1] if X.ndim > 2 else X.shape[1:]
        self.mean_ = (mean if self.with_mean else np.zeros_like(mean)).astype(np.float32)
        self.scale_ = (std if self.with_std else np.ones_like(std)).astype(np.float32)
        self.mean_ = self.mean_.reshape(shape)
        self.scale_ = self.scale_.reshape(shape)
        return self

    def _broadcast(self, X, stat):
        return stat if X.ndim == 2 else stat[..., None]

    def transform(self, X):
        """Standardise X with the statistics learned in fit.

        Parameters
        ----------
        X : array-like, same number of bins (and channels) as in fit

        Returns
        -------
        X_scaled : ndarray of float32, same shape as X
        """
        check_is_fitted(self)
        X = self._check(X)
        return (X - self._broadcast(X, self.mean_)) / self._broadcast(X, self.scale_)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like, same shape rules as :meth:`transform`

        Returns
        -------
        X_original : ndarray of float32
        """
        check_is_fitted(self)
        X = self._check(X)
        return X * self._broadcast(X, self.scale_) + self._broadcast(X, self.mean_)

    def _check(self, X):
        X = check_spectrograms(self, X, reset=False)
        ok = X.ndim in (2, 3) if self.mean_.ndim == 1 else X.ndim == 4
        if not ok or X.shape[1:1 + self.mean_.ndim] != self.mean_.shape:
            layout = "(n_clips, n_bins[, n_frames])" if self.mean_.ndim == 1 else (
                "(n_clips, n_channels, n_bins, n_frames)")
            raise ValueError(
                f"SpectrogramScaler was fitted on {layout} input with (channels, bins) = "
                f"{self.mean_.shape}; got an array of shape {X.shape}."
            )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class SpectralWhitening(NamedRefusals, TransformerMixin, BaseEstimator):
    """Decorrelate the frequency bins with a whitening matrix learned in fit.

    Spectral whitening (sec. 5.1): every frame of every training clip is a sample
    of an ``n_bins``-dimensional vector; its covariance ``C = U diag(lambda) U^T``
    gives the whitening ``W = diag(lambda + eps) ** -1/2 U^T`` (PCA) or
    ``U W_pca`` (ZCA, which stays closest to the input bins), so that the bins
    have zero mean, unit variance and no correlation over the training data.

    Parameters
    ----------
    method : {"zca", "pca"}, default="zca"
        ZCA keeps the bins' order and meaning; PCA returns components in order of
        decreasing variance.
    eps : float, default=1e-5
        Regulariser added to the eigenvalues, relative to the largest one, so that
        near-silent directions are not blown up.

    Attributes
    ----------
    mean_ : ndarray of float32, shape (n_bins,)
    whitening_ : ndarray of float32, shape (n_bins, n_bins)
        Applied to each centred frame: ``whitening_ @ (frame - mean_)``.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import SpectralWhitening
    >>> X = np.random.default_rng(0).standard_normal((20, 2, 100)).astype("float32")
    >>> X[:, 1] += 2 * X[:, 0]  # two correlated bins
    >>> Z = SpectralWhitening().fit_transform(X)
    >>> np.abs(np.cov(Z.transpose(1, 0, 2).reshape(2, -1))).round(3)
    array([[1., 0.],
           [0., 1.]])
    """

    _parameter_constraints = {
        "method": [StrOptions({"zca", "pca"})],
        "eps": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, method="zca", eps=1e-5):
        self.method = method
        self.eps = eps

    def fit(self, X, y=None):
        """Learn the mean and whitening matrix of the bins.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames])
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = check_spectrograms(self, X, reset=True, allowed_ndim=(2, 3))
        rows = _as_bins_frames(X)
        n_bins = rows.shape[1]
        count = len(rows) * rows.shape[2]
        mean = _row_mean(rows)
        cov = np.zeros((n_bins, n_bins))
        for i in range(0, len(rows), _BLOCK):
            d = (rows[i:i + _BLOCK] - mean[None, :, None]).transpose(1, 0, 2).reshape(n_bins, -1)
            cov += d @ d.T
        cov /= max(count - 1, 1)
        eigval, eigvec = np.linalg.eigh(cov)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = np.clip(eigval[order], 0, None), eigvec[:, order]
        reg = self.eps * max(eigval[0], np.finfo(np.float64).tiny)
        W = (eigvec / np.sqrt(eigval + reg)).T
        if self.method == "zca":
            W = eigvec @ W
        self.mean_ = mean.astype(np.float32)
        self.whitening_ = W.astype(np.float32)
        return self

    def transform(self, X):
        """Whiten every frame.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames])

        Returns
        -------
        X_white : ndarray of float32, same shape as X
        """
        check_is_fitted(self)
        X = check_spectrograms(self, X, reset=False, allowed_ndim=(2, 3))
        rows = _as_bins_frames(X)
        out = np.einsum("ij,njt->nit", self.whitening_, rows - self.mean_[None, :, None])
        return out.reshape(X.shape).astype(np.float32, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


_STATS = {
    "mean": lambda R: R.mean(axis=2),
    "std": lambda R: R.std(axis=2),
    "min": lambda R: R.min(axis=2),
    "max": lambda R: R.max(axis=2),
    "median": lambda R: np.median(R, axis=2),
}


class TimeSummary(NamedRefusals, TransformerMixin, BaseEstimator):
    """Summarise each bin over time: ``(n_clips, n_bins, n_frames)`` to 2-D features.

    The bridge from frame-wise features to a shallow classifier in the conventional
    pipeline of the paper's fig. 2(a) (e.g. MFCC mean and standard deviation into
    an SVM).

    Parameters
    ----------
    stats : sequence of {"mean", "std", "min", "max", "median"}, default=("mean", "std")
        Statistics over frames, concatenated in this order.

    Attributes
    ----------
    n_features_in_ : int
    n_rows_ : int
        (Channel,) bin rows summarised per statistic.
    n_channels_ : int or None
        Channels of 4-D input, None for 2-D and 3-D input.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import TimeSummary
    >>> X = np.arange(12, dtype="float32").reshape(1, 2, 6)
    >>> TimeSummary(stats=("mean", "max")).fit_transform(X)
    array([[ 2.5,  8.5,  5. , 11. ]], dtype=float32)
    """

    _parameter_constraints = {"stats": [list, tuple, str]}

    def __init__(self, stats=("mean", "std")):
        self.stats = stats

    def _stats(self):
        stats = (self.stats,) if isinstance(self.stats, str) else tuple(self.stats)
        bad = [s for s in stats if s not in _STATS]
        if bad or not stats:
            raise ValueError(
                f"TimeSummary: stats={self.stats!r} holds {bad or 'nothing'}; allowed "
                f"statistics are {sorted(_STATS)}."
            )
        return stats

    def fit(self, X, y=None):
        """Check the input and record its size.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins[, n_frames]) or 4-D with channels
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        self._stats()
        X = check_spectrograms(self, X, reset=True)
        self.n_rows_ = _as_bins_frames(X).shape[1]
        self.n_channels_ = X.shape[1] if X.ndim == 4 else None
        return self

    def transform(self, X):
        """Summarise every clip.

        Parameters
        ----------
        X : array-like, same bins (and channels) as in fit; any number of frames

        Returns
        -------
        features : ndarray of float32, shape (n_clips, ``len(stats) * n_rows_``)
        """
        check_is_fitted(self)
        X = check_spectrograms(self, X, reset=False)
        rows = _as_bins_frames(X)
        if rows.shape[1] != self.n_rows_:
            raise ValueError(
                f"TimeSummary was fitted on {self.n_rows_} (channel, bin) rows; got an "
                f"array of shape {X.shape} with {rows.shape[1]}."
            )
        return np.concatenate([_STATS[s](rows) for s in self._stats()], axis=1).astype(
            np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names ``"<stat>_<row>"`` of the output columns.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        if self.n_channels_:
            n_bins = self.n_rows_ // self.n_channels_
            rows = [f"ch{c}_bin{b}" for c in range(self.n_channels_) for b in range(n_bins)]
        else:
            rows = [f"bin{b}" for b in range(self.n_rows_)]
        return np.asarray([f"{s}_{r}" for s in self._stats() for r in rows], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
