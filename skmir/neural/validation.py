"""Input validation of the neural estimators: spectrogram-like X, frame targets.

Every error names the estimator, what it received and what is allowed; X comes back
as contiguous float32 ``(n_clips, n_channels, n_bins, n_frames)``.
"""

import numpy as np
from sklearn.utils.validation import validate_data

from skmir._validation import (
    check_finite,
    check_frames,
    check_lazy,
    check_not_waveforms,
    check_sr,
    check_waveforms,
    is_lazy,
)
from skmir.store import check_frontend, frontend_of


def ndim(X):
    """The number of dimensions of an array-like, without converting an array."""
    n = getattr(X, "ndim", None)
    if n is None and isinstance(getattr(X, "shape", None), tuple):
        n = len(X.shape)  # a lazy X: np.asarray would read it all
    return np.asarray(X).ndim if n is None else n


class InputValidationMixin:
    """:meth:`_check_X` and :meth:`_check_frame_y` for
    :class:`skmir.neural.base.BaseNeuralEstimator`."""

    def _check_X(self, X, y="no_validation", *, reset):
        """Validate X (and a clip-level y at fit); return X as float32 (n, channels,
        bins, frames): an array, or for a lazy X (a FeatureStore, a memmap) a
        :class:`~skmir._validation.LazyClips` view that batches read from."""
        owner = type(self).__name__
        kwargs = dict(dtype=np.float32, allow_nd=True, ensure_all_finite=False)
        fit = not (isinstance(y, str) and y == "no_validation")
        check_not_waveforms(X, owner, hint=", or learn from the waveforms with a front end "
                            "(frontend='logmel')")
        self._check_store_frontend(X, reset=reset)
        if is_lazy(X):
            return self._check_lazy_X(X, y, fit=fit, reset=reset)
        if not fit:
            shape = getattr(X, "shape", ())
            if not reset and len(shape) in (3, 4) and hasattr(self, "input_shape_"):
                # Say it in spectrogram terms: sklearn's "X has 2 features" would
                # count channels as features when a 4-D X meets a 3-D fit.
                per_clip = (1, shape[1]) if len(shape) == 3 else tuple(shape[1:3])
                self._check_shape(per_clip)
            X = validate_data(self, X, reset=reset, **kwargs)
        else:
            X, y = validate_data(self, X, y, multi_output=self._codec.multi_output,
                                 y_numeric=self._codec.numeric, **kwargs)
        if X.ndim not in (2, 3, 4):
            raise ValueError(
                f"{owner}: X must be (n_clips, n_bins, n_frames), (n_clips, n_channels, "
                f"n_bins, n_frames), or 2-D (n_clips, n_features) read as one frame per "
                f"clip; got an array of shape {X.shape}."
            )
        check_frames(X, owner)
        check_finite(X, owner)
        X4 = X[:, None, :, None] if X.ndim == 2 else X[:, None] if X.ndim == 3 else X
        if not reset:
            self._check_shape(X4.shape[1:3])
        X4 = np.ascontiguousarray(X4, dtype=np.float32)
        return (X4, y) if fit else X4

    def _check_lazy_X(self, X, y, *, fit, reset):
        """:meth:`_check_X` for data not in memory: checked by shape and dtype, its
        values block by block, and passed on as a view (batches read it)."""
        shape = tuple(X.shape)
        if not reset and len(shape) in (3, 4) and hasattr(self, "input_shape_"):
            self._check_shape((1, shape[1]) if len(shape) == 3 else tuple(shape[1:3]))
        # skip_check_array: n_features_in_ (shape[1]) without converting X
        validate_data(self, X, reset=reset, skip_check_array=True)
        if fit:
            y = validate_data(self, "no_validation", y, reset=False,
                              multi_output=self._codec.multi_output,
                              y_numeric=self._codec.numeric)
            if len(y) != shape[0]:
                raise ValueError(
                    f"{type(self).__name__}: X has {shape[0]} clips but y has {len(y)}."
                )
        X4 = check_lazy(X, type(self).__name__)
        if not reset:
            self._check_shape(X4.shape[1:3])
        return (X4, y) if fit else X4

    def _check_waveforms(self, X, y="no_validation", *, reset, sr, sr_declared=True):
        """Validate the waveforms of an estimator with a ``frontend`` (and a clip-level
        y at fit); return X as float32 (n_clips, n_channels, n_samples). Clips of any
        length are predicted; the number of channels is the fit's."""
        owner = type(self).__name__
        self._check_store_frontend(X, reset=reset)
        if ndim(X) > 3:  # 1-D X: sklearn's "Reshape your data" below
            raise ValueError(
                f"{owner}: with frontend={self.frontend!r}, X must be waveforms "
                f"(n_clips, n_samples) or (n_clips, n_channels, n_samples); got an array "
                f"of shape {np.shape(X)}. Spectrograms are the input of frontend=None."
            )
        given = X
        X = check_waveforms(self, X, reset=True if reset else None)
        X3 = np.ascontiguousarray(X[:, None] if X.ndim == 2 else X, dtype=np.float32)
        if not reset and X3.shape[1] != self.n_audio_channels_:
            raise ValueError(
                f"{owner}: X has {X3.shape[1]} audio channel(s) per clip, but the network "
                f"was fitted on {self.n_audio_channels_}."
            )
        check_sr(given, sr, owner, declared=sr_declared)  # what X is, then its rate
        if isinstance(y, str) and y == "no_validation":
            return X3
        y = validate_data(self, "no_validation", y, reset=False,
                          multi_output=self._codec.multi_output, y_numeric=self._codec.numeric)
        if len(y) != len(X3):
            raise ValueError(f"{owner}: X has {len(X3)} clips but y has {len(y)}.")
        return X3, y

    def _check_store_frontend(self, X, *, reset):
        """At fit, record the front end of a feature store X (``store_frontend_``;
        None for any other X); afterwards, refuse a store made by another one. An
        array carries no front end and is taken as it is (as ``np.asarray(store)``)."""
        if reset:
            self.store_frontend_ = frontend_of(X)
        else:
            check_frontend(X, getattr(self, "store_frontend_", None), type(self).__name__)

    def _check_shape(self, per_clip):
        if tuple(per_clip) != tuple(self.input_shape_):
            raise ValueError(
                f"{type(self).__name__}: X has (channels, bins) = {tuple(per_clip)} per "
                f"clip, but the network was fitted on {tuple(self.input_shape_)}; only "
                "the number of frames may differ."
            )

    def _check_frame_y(self, X, y, X4):
        """Frame targets aligned to X's frames; a 2-D X (one frame per clip) with a
        1-D y is a single-frame fit (``single_frame_``)."""
        owner = type(self).__name__
        y = np.asarray(y)
        two_d = ndim(X) == 2
        if two_d:
            y = self._codec.as_labels(y)
        self.single_frame_ = bool(two_d and y.ndim == 1)
        shape = y[:, None].shape if self.single_frame_ else y.shape
        if len(shape) not in (2, 3):
            raise ValueError(
                f"{owner}: y must be (n_clips, n_frames) or (n_clips, n_frames, n_labels) "
                f"aligned to X's frames; got y of shape {y.shape}."
            )
        if shape[0] != X4.shape[0]:
            raise ValueError(f"{owner}: X has {X4.shape[0]} clips but y has {shape[0]}.")
        if shape[1] != X4.shape[3]:
            raise ValueError(
                f"{owner}: y has {shape[1]} frames but X has {X4.shape[3]} frames; "
                "frame targets must be aligned to X's frames."
            )
        if y.dtype.kind in "fc":
            check_finite(y, owner, what="y")
        return y
