"""What every representation transformer shares: input validation,
blocking over clips (so a block's temporaries stay small) and joblib parallelism.

A representation is one class, the one definition of both its backends: a subclass
of :class:`Representation` with its ``__init__`` (librosa's names and defaults),
``_parameter_constraints`` (and ``_validate_params`` for relations between
parameters), ``_compute(X, out)`` (the librosa call on a block of clips, written
into ``out`` when given) and ``torch_stages()``: its torch computation as a chain of
the generic stages of :mod:`skmir.nn.representations` (``[(stage name, kwargs),
...]``, plain values and numpy arrays built here with librosa, e.g. the mel
filterbank). With ``backend="torch"`` the chain computes instead, batch by batch on
``device``; torch is imported only then, inside the call, so ``import skmir`` stays
free of torch.
"""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from threadpoolctl import threadpool_limits

from skmir._validation import NamedRefusals, check_waveforms, refusals

# Samples per librosa call: small enough that a block's temporaries (the complex STFT)
# stay in cache-friendly megabytes instead of growing with the dataset, large enough to
# amortise librosa's per-call costs. The CQT builds its filters at every call, so it
# takes larger blocks (measured in benchmarks/bench_representations.py).
BLOCK_SAMPLES = 2**20
CQT_BLOCK_SAMPLES = 2**22

# Input values per torch batch on a GPU: bounds a batch's memory on the device (the
# STFT's complex output of 2**22 samples at hop 512 is 64 MB). On the CPU the torch
# backend takes the librosa backend's blocks, for the same reason they were chosen:
# STFT-based transforms of 2**20-sample blocks ran 1.4-1.7x faster than of 2**22,
# the CQT's 3x slower (on the 32 clips of 30 s of benchmarks/bench_frontends.py).
TORCH_BLOCK_SAMPLES = 2**22

# The constraints the representations' parameters share.
WINDOW = [str, tuple, callable, np.ndarray]
INT_POS = Interval(Integral, 1, None, closed="left")
POSITIVE = Interval(Real, 0, None, closed="neither")
PAD_MODES = StrOptions({"constant", "edge", "linear_ramp", "reflect", "symmetric", "empty"})
#: The constraints of the parameters that say how, not what, to compute.
EXECUTION = {"n_jobs": [Integral, None], "backend": [StrOptions({"librosa", "torch"})],
             "device": [str]}


def stft_stage(n_fft, hop_length, win_length, window, center, pad_mode):
    """The torch stage of ``librosa.stft`` with these parameters (librosa's meaning).

    Its window is librosa's (``librosa.filters.get_window``, centred in ``n_fft``).
    Follow it with ``("magnitude", {"power": p})`` for ``|stft| ** p``.

    Returns
    -------
    stage : tuple of (str, dict)
        ``("stft", {"n_fft", "hop_length", "window", "center", "pad_mode"})``.

    Examples
    --------
    >>> from skmir.representations.base import stft_stage
    >>> name, kwargs = stft_stage(1024, None, None, "hann", True, "constant")
    >>> name, kwargs["hop_length"], kwargs["window"].shape
    ('stft', 256, (1024,))
    """
    import librosa

    win = n_fft if win_length is None else win_length
    w = librosa.filters.get_window(window, win, fftbins=True)
    return ("stft", {"n_fft": n_fft, "hop_length": win // 4 if hop_length is None else hop_length,
                     "window": librosa.util.pad_center(w, size=n_fft).astype(np.float32),
                     "center": center, "pad_mode": pad_mode})


def check_torch_backend(transformer):
    """With ``backend="torch"``: the torch module equal to ``transformer`` and its
    device, or a ValueError naming a parameter the torch backend cannot honour (or a
    device that is not available); None with ``backend="librosa"``."""
    if transformer.backend != "torch":
        return None
    from skmir.nn import representations

    module = representations.from_transformer(transformer)
    return module, representations.resolve_device(transformer.device,
                                                  owner=type(transformer).__name__)


def torch_block_samples(transformer, device):
    """Input values per torch batch of ``transformer`` on ``device``."""
    return transformer._block_samples() if str(device) == "cpu" else TORCH_BLOCK_SAMPLES


def torch_transform(transformer, X):
    """``transformer``'s representation of X computed by its torch module, as float32
    numpy, in batches of :func:`torch_block_samples` values, without gradients."""
    from skmir.nn import representations

    module, device = check_torch_backend(transformer)
    return representations.transform_array(
        module, X, device=device, block_samples=torch_block_samples(transformer, device))


class Representation(NamedRefusals, TransformerMixin, BaseEstimator):
    """Shared machinery: validation, blocking over clips, joblib parallelism.

    A subclass defines ``__init__``, ``_parameter_constraints``, ``_compute(X,
    out=None)`` and ``torch_stages()`` (see the module's docstring); ``n_jobs``,
    ``backend`` and ``device`` are parameters of every representation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.representations.base import Representation, stft_stage
    >>> class Power(Representation):
    ...     _parameter_constraints = {"n_fft": [int]}
    ...     def __init__(self, n_fft=256, n_jobs=None, backend="librosa", device="auto"):
    ...         self.n_fft, self.n_jobs, self.backend, self.device = n_fft, n_jobs, backend, device
    ...     def _compute(self, X, out=None):
    ...         import librosa
    ...         return magnitude(librosa.stft(X, n_fft=self.n_fft), 2.0, out)
    ...     def torch_stages(self):
    ...         return [stft_stage(self.n_fft, None, None, "hann", True, "constant"),
    ...                 ("magnitude", {"power": 2.0})]
    >>> Power().fit_transform(np.zeros((2, 1024), "float32")).shape
    (2, 129, 17)
    """

    def fit(self, X, y=None):
        """Check the parameters and the waveforms; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
            Waveforms.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        check_torch_backend(self)
        check_waveforms(self, X, reset=True, min_samples=self._min_samples(), sr=self._sr())
        return self

    def transform(self, X):
        """Compute the representation of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
            Waveforms (float32 is used as is; other dtypes are converted).

        Returns
        -------
        S : ndarray of float32, shape (n_clips, [n_channels,] n_bins, n_frames)
        """
        self._validate_params()
        X = check_waveforms(self, X, reset=None, min_samples=self._min_samples(), sr=self._sr())
        if self.backend == "torch":
            return torch_transform(self, X)
        name = type(self).__name__
        # The first clip runs here: it tells the output's shape before any worker starts.
        first = compute_block(self, X[:1], name)
        out = np.empty((len(X), *first.shape[1:]), dtype=np.float32)
        out[0] = first[0]
        n_jobs = effective_n_jobs(self.n_jobs)
        blocks = clip_blocks(1, len(X), X[0].size, n_jobs, self._block_samples())
        if n_jobs == 1 or len(blocks) < 2:
            for s in blocks:
                compute_block(self, X[s], name, out[s])
            return out
        # Threads, not processes: librosa's FFTs, filterbanks and resamplers release
        # the GIL, and threads write straight into `out`, where processes would copy
        # every input and output across (measured in benchmarks/). One BLAS thread
        # per worker keeps n_jobs threads from each starting a BLAS pool.
        with threadpool_limits(1):
            Parallel(n_jobs=n_jobs, require="sharedmem")(
                delayed(compute_block)(self, X[s], name, out[s]) for s in blocks
            )
        return out

    def _sr(self):
        return getattr(self, "sr", None)

    def _min_samples(self):
        return self.n_fft

    def _block_samples(self):
        return BLOCK_SAMPLES

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def clip_blocks(start, stop, n_samples, n_jobs, block_samples=BLOCK_SAMPLES):
    """Split clips [start, stop) into blocks of at most block_samples samples, and at
    least one block per job."""
    per_block = max(1, block_samples // max(n_samples, 1))
    n_blocks = max(-(-(stop - start) // per_block), min(stop - start, n_jobs))
    bounds = np.linspace(start, stop, n_blocks + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def compute_block(rep, X, name, out=None):
    """The representation of the clips X, written into ``out`` when given."""
    with refusals(name), np.errstate(divide="ignore", invalid="ignore"):
        if getattr(rep, "tuning", 0.0) is None:
            # librosa estimates one tuning for the whole array it is given: clip by
            # clip, so that a clip's values never depend on its neighbours.
            if out is None:
                return np.stack([rep._compute(x[None])[0] for x in X])
            for i in range(len(X)):
                rep._compute(X[i:i + 1], out[i:i + 1])
            return out
        return rep._compute(X, out)


def store(result, out):
    if out is None:
        return np.asarray(result, dtype=np.float32)
    out[...] = result
    return out


def magnitude(S, power, out):
    """``|S| ** power`` as float32, computed in place in ``out`` when given."""
    mag = np.abs(S, out=out) if out is not None else np.abs(S).astype(np.float32, copy=False)
    if power != 1:
        mag **= power
    return mag
