"""Deep features for shallow classifiers: random-weights and transfer-learning extractors.

With little labelled data (the paper's sec. 2.3) a network can still help as a fixed
feature extractor in front of a shallow classifier such as an SVM:

- :class:`RandomWeightsFeatures`: a network of the paper's notation with random
  weights, never trained; its layers' outputs pooled over time are the features.
- :class:`TransferFeatures`: a network trained on a source task (by the user, or the
  one shipped with skmir, see :func:`skmir.list_pretrained`); as in Choi et al.
  (2017, "Transfer learning for music classification and regression tasks"), the
  global average of every convolutional layer's output, concatenated.

Both are transformers: ``make_pipeline(AudioLoader(sr=16000),
TransferFeatures("choi2017-tags"), StandardScaler(), SVC())`` is a whole transfer
learning recipe, cross-validated like any sklearn model. Feature names say which layer
and channel every column comes from (``"layer3_c2_avg17"``).
"""

from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skmir._validation import check_finite, check_spectrograms, check_waveforms, validate_array
from skmir.io import is_paths
from skmir.neural.base import BaseNeuralEstimator
from skmir.nn.architecture import layout
from skmir.nn.training import resolve_device

_POOLINGS = ("avg", "max", "both")
_NOT_FEATURES = ("p1", "p2", "global pool")


def _feature_modules(net):
    """Module indices and tokens of the layers whose outputs can be features.

    Every layer except pooling and the output layer, in string order; ``net.shapes``
    is aligned with ``net.layers`` (global pooling included).
    """
    found = [(i, tok, shape) for i, (tok, shape) in enumerate(net.shapes)
             if tok not in _NOT_FEATURES]
    return found[:-1]  # the last one is the output layer


def _select_layers(layers, available, owner, architecture):
    """Positions (0-based, into ``available``) chosen by the ``layers`` parameter."""
    n = len(available)
    listing = ", ".join(f"{k + 1}: {tok}" for k, (_, tok, _) in enumerate(available))
    if isinstance(layers, str):
        if layers == "all":
            if n == 0:
                raise ValueError(f"{owner}: architecture {architecture!r} has no layer "
                                 "before its output layer to take features from.")
            return list(range(n))
        chosen = [layers]
    elif isinstance(layers, Integral):
        chosen = [layers]
    else:
        chosen = list(layers)
    picked = []
    for k in chosen:
        if isinstance(k, bool) or not isinstance(k, Integral) or not (1 <= abs(k) <= n):
            raise ValueError(
                f"{owner}: layers={layers!r}: layer {k!r} does not exist. Architecture "
                f"{architecture!r} has {n} layer(s) that give features ({listing}; "
                "pooling and the output layer do not); pass 'all', a number in "
                f"1..{n} (or -{n}..-1 from the end), or a list of them."
            )
        picked.append(k - 1 if k > 0 else n + k)
    if len(set(picked)) != len(picked):
        raise ValueError(f"{owner}: layers={layers!r} names a layer twice.")
    return sorted(picked)


def _pool(h, pooling):
    """Global pooling of one layer's output over bins and frames."""
    if h.ndim == 2:  # dense layers after the network's own global pooling
        return [h]
    if pooling == "avg":
        return [h.mean(dim=(2, 3))]
    if pooling == "max":
        return [h.amax(dim=(2, 3))]
    return [h.mean(dim=(2, 3)), h.amax(dim=(2, 3))]


def _feature_names(available, selected, pooling):
    names = []
    for k in selected:
        _, tok, shape = available[k]
        width = shape[0]
        kinds = [""] if len(shape) == 1 else (["avg", "max"] if pooling == "both"
                                              else [pooling])
        for kind in kinds:
            names += [f"layer{k + 1}_{tok}_{kind}{j}" for j in range(width)]
    return np.asarray(names, dtype=object)


def _extract(net, X4, modules, pooling, batch_size, device):
    """Run ``net`` up to the last wanted module, pooling the wanted outputs."""
    from skmir.nn.blocks import as_4d

    wanted, last = set(modules), max(modules)
    was_training = net.training
    net.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(X4), batch_size):
                h = as_4d(torch.as_tensor(X4[start:start + batch_size]).to(device))
                feats = []
                for i, module in enumerate(net.layers):
                    h = module(h)
                    if i in wanted:
                        feats += _pool(h, pooling)
                    if i == last:
                        break
                out.append(torch.cat(feats, dim=1).float().cpu().numpy())
    finally:
        net.train(was_training)
    return np.concatenate(out)


def _as_4d(X):
    return X[:, None, :, None] if X.ndim == 2 else X[:, None] if X.ndim == 3 else X


class _DeepFeatures(TransformerMixin, BaseEstimator):
    """Shared machinery: layer choice, pooling, batched extraction, feature names."""

    def _set_layers(self, net, architecture):
        available = _feature_modules(net)
        selected = _select_layers(self.layers, available, type(self).__name__, architecture)
        self.feature_layers_ = [k + 1 for k in selected]
        self._modules = [available[k][0] for k in selected]
        self._names = _feature_names(available, selected, self.pooling)

    def _features(self, net, X4, device):
        return _extract(net, np.ascontiguousarray(X4, dtype=np.float32), self._modules,
                        self.pooling, self.batch_size, device)

    def _check_shape(self, X):
        per_clip = tuple(_as_4d(X).shape[1:3])
        if per_clip != tuple(self.input_shape_):
            raise ValueError(
                f"{type(self).__name__}: X has (channels, bins) = {per_clip} per clip, but "
                f"the network takes {tuple(self.input_shape_)}; only the number of frames "
                "may differ."
            )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``layer<k>_<token>_<pooling><channel>``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_layers_")
        return self._names.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class RandomWeightsFeatures(_DeepFeatures):
    """Features from a network with random weights: no training at all.

    The paper's sec. 2.3: a convnet with random weights is a fair feature extractor
    for a shallow classifier when data are few. The network is built from an
    architecture string (the paper's notation), initialised with He-normal weights so
    that every layer keeps its input's scale, and never trained; each chosen layer's
    output is pooled over frequency and time.

    Parameters
    ----------
    architecture : str, default="c2-p2-c2-p2-c2-p2-c2-p2-c2"
        Token string or preset (see :mod:`skmir.nn.architecture`). The default is the
        five-layer convnet of the shipped pretrained network, so random and transferred
        weights can be compared layer for layer.
    channels, kernel_size, pool, hidden : int or tuple of int
        Layer sizes, one value or one per layer, as in :class:`skmir.NeuralClassifier`.
    layers : "all", int or list of int, default="all"
        Which layers give features, numbered from 1 over the layers that are not
        pooling (negative numbers count from the end): ``[4, 5]`` takes the fourth and
        fifth convolutions.
    pooling : {"avg", "max", "both"}, default="avg"
        Global pooling of each layer's output over bins and frames.
    batch_size : int, default=64
        Clips per forward pass.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seed of the random weights: the same seed gives the same features.

    Attributes
    ----------
    network_ : skmir.nn.ArchitectureNet
        The random network (in eval mode).
    input_shape_ : tuple of int
        ``(channels, bins)`` of one clip.
    feature_layers_ : list of int
        The layers that give features, numbered as in ``layers``.
    n_features_in_ : int
        Bins (or features of 2-D input) seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import RandomWeightsFeatures
    >>> S = np.random.default_rng(0).normal(size=(4, 64, 100)).astype("float32")
    >>> rw = RandomWeightsFeatures(random_state=0).fit(S)
    >>> rw.transform(S).shape, rw.get_feature_names_out()[[0, -1]].tolist()
    ((4, 160), ['layer1_c2_avg0', 'layer5_c2_avg31'])
    """

    _parameter_constraints = {
        "architecture": [str],
        "channels": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "pool": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "hidden": [Interval(Integral, 1, None, closed="left"), list, tuple],
        "layers": [StrOptions({"all"}), Integral, list, tuple],
        "pooling": [StrOptions(set(_POOLINGS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, architecture="c2-p2-c2-p2-c2-p2-c2-p2-c2", *, channels=32,
                 kernel_size=3, pool=2, hidden=64, layers="all", pooling="avg",
                 batch_size=64, device="auto", random_state=None):
        self.architecture = architecture
        self.channels = channels
        self.kernel_size = kernel_size
        self.pool = pool
        self.hidden = hidden
        self.layers = layers
        self.pooling = pooling
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def fit(self, X, y=None):
        """Build the random network for clips shaped like X.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
            Spectrograms (4-D with channels; 2-D is one frame per clip).
        y : ignored

        Returns
        -------
        self
        """
        from skmir.nn.builder import ArchitectureNet

        self._validate_params()
        layers = layout(self.architecture, channels=self.channels,
                        kernel_size=self.kernel_size, pool=self.pool, hidden=self.hidden)
        X = check_spectrograms(self, X, reset=True)
        self.input_shape_ = tuple(int(s) for s in _as_4d(X).shape[1:3])
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._device = resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = ArchitectureNet(layers, self.input_shape_, n_outputs=1)
            for module in net.modules():
                # He initialisation keeps each layer's output at its input's scale
                # through ReLU; torch's default shrinks it layer after layer.
                if isinstance(module, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)):
                    torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                    if module.bias is not None:
                        torch.nn.init.zeros_(module.bias)
        self.network_ = net.to(self._device).eval()
        self._set_layers(net, self.architecture)
        return self

    def transform(self, X):
        """Pooled outputs of the chosen layers, concatenated.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
            Same bins (and channels) as in fit; any number of frames.

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_features)
        """
        check_is_fitted(self, "network_")
        X = _check_transform_input(self, X)
        return self._features(self.network_, _as_4d(X), self._device)


def _check_transform_input(estimator, X):
    """Spectrograms at transform: 2-D input is checked against n_features_in_ by
    sklearn (whose message counts features), 3-D/4-D by the (channels, bins) check."""
    X = check_spectrograms(estimator, X, reset=None)
    if X.ndim == 2:
        validate_data(estimator, X, reset=False, dtype=None, ensure_all_finite=False)
    estimator._check_shape(X)
    return X


def _unwrap(source):
    """The fitted skmir network (and any fitted front end) inside ``source``."""
    from sklearn.frozen import FrozenEstimator

    if isinstance(source, FrozenEstimator):
        source = source.estimator
    frontend = None
    if isinstance(source, Pipeline):
        frontend, source = source[:-1], source[-1]
    return frontend, source


class TransferFeatures(_DeepFeatures):
    """Transfer learning: a network trained on a source task as a feature extractor.

    Following Choi et al. (2017), the output of each convolutional (and any other
    non-pooling) layer of the source network is averaged over frequency and time and
    the averages are concatenated: low layers describe timbre and onsets, high layers
    what the source task needed. ``fit`` never retrains the source; a shallow
    classifier after this transformer learns the target task.

    Parameters
    ----------
    source : str or fitted estimator
        - the name of a network shipped with skmir (:func:`skmir.list_pretrained`):
          it takes mono waveforms at its model card's sample rate (see ``sr``) and
          computes its own input representation;
        - a fitted :class:`~skmir.NeuralClassifier`, :class:`~skmir.NeuralTagger`,
          :class:`~skmir.NeuralRegressor` (or frame-level estimator): it takes the
          spectrograms it was trained on;
        - a fitted Pipeline ending in one of these (the pipeline's earlier steps are
          the front end), or any of these wrapped in
          :class:`sklearn.frozen.FrozenEstimator`.

        A fitted source is shared, not copied, by clones (``clone`` would otherwise
        return an unfitted source), so cross-validation never refits it.
    layers : "all", int or list of int, default="all"
        Which layers give features, numbered from 1 over the non-pooling layers (the
        output layer excluded); negative numbers count from the end.
    pooling : {"avg", "max", "both"}, default="avg"
        Global pooling of each layer's output over bins and frames.
    batch_size : int, default=64
        Clips per forward pass.
    device : str, default="auto"
        Device of a shipped network (``"auto"``: CUDA when available). A fitted
        source stays on its own device.

    Attributes
    ----------
    estimator_ : skmir neural estimator
        The source network (loaded for a shipped name; the given one otherwise).
    frontend_ : Pipeline or None
        What turns the input into the network's input (None: X is the input).
    feature_layers_ : list of int
        The layers that give features.
    n_features_in_ : int
        Samples per clip (waveform input) or bins (spectrogram input) seen in fit.

    See Also
    --------
    RandomWeightsFeatures : the same features from an untrained network.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import TransferFeatures
    >>> tf = TransferFeatures("choi2017-tags")
    >>> tf.sr
    16000
    >>> audio = np.random.default_rng(0).normal(size=(2, 16000)).astype("float32")
    >>> tf.fit_transform(audio).shape
    (2, 160)
    """

    _parameter_constraints = {
        "source": [str, BaseEstimator],
        "layers": [StrOptions({"all"}), Integral, list, tuple],
        "pooling": [StrOptions(set(_POOLINGS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    def __init__(self, source, *, layers="all", pooling="avg", batch_size=64, device="auto"):
        self.source = source
        self.layers = layers
        self.pooling = pooling
        self.batch_size = batch_size
        self.device = device

    def __sklearn_clone__(self):
        # A fitted source must survive clone(): GridSearchCV and cross_validate clone
        # every step, and sklearn's clone of a fitted estimator is an unfitted one.
        params = self.get_params(deep=False)
        source = params.pop("source")
        if not isinstance(source, str):
            params = {k: clone(v, safe=False) for k, v in params.items()}
        return type(self)(source, **params)

    @property
    def sr(self):
        """Sample rate the input must have: the model card's for a shipped network,
        the front end's ``sr`` for a pipeline source, None for spectrogram input."""
        if isinstance(self.source, str):
            from skmir.pretrained import model_card

            return int(model_card(self.source)["sr"])
        frontend, _ = _unwrap(self.source)
        for step in (frontend.named_steps.values() if frontend is not None else ()):
            if "sr" in step.get_params(deep=False):
                return step.get_params(deep=False)["sr"]
        return None

    def _load_source(self):
        owner = type(self).__name__
        if isinstance(self.source, str):
            from skmir.pretrained import load_pretrained

            device = resolve_device(self.device)
            frontend, estimator = load_pretrained(self.source, device=device)
            return frontend, estimator, device
        frontend, estimator = _unwrap(self.source)
        if not isinstance(estimator, BaseNeuralEstimator):
            raise TypeError(
                f"{owner}: source must be the name of a shipped network "
                f"(skmir.list_pretrained()), a fitted skmir neural estimator, or a fitted "
                f"Pipeline ending in one; got {type(estimator).__name__}."
            )
        if not hasattr(estimator, "net_"):
            raise ValueError(
                f"{owner}: the source {type(estimator).__name__} is not fitted. Train it "
                "on the source task first (source.fit(X_source, y_source)); "
                "TransferFeatures never trains it."
            )
        if frontend is not None:
            check_is_fitted(frontend)
        return frontend, estimator, estimator.net_.device

    def _check_input(self, X, reset):
        owner = type(self).__name__
        if self.frontend_ is None:  # spectrograms for the source network itself
            if not reset:
                return _check_transform_input(self, X)
            X = check_spectrograms(self, X, reset=True)
            self._check_shape(X)
            return X
        if isinstance(self.source, str):
            sr = self.frontend_[0].sr
            ndim = np.ndim(X)
            if ndim != 2:
                raise ValueError(
                    f"{owner}({self.source!r}) computes its own log-mel-spectrogram and takes "
                    f"mono waveforms (n_clips, n_samples) at sr={sr} Hz; got an array of "
                    f"{ndim} dimension(s) with shape {np.shape(X)}. Pass the audio, e.g. "
                    f"make_pipeline(AudioLoader(sr={sr}), {owner}({self.source!r}), SVC())."
                )
            x_sr = getattr(X, "sr", None)
            if x_sr is not None and int(x_sr) != sr:
                raise ValueError(
                    f"{owner}({self.source!r}) expects audio at sr={sr} Hz (its model card) "
                    f"but the waveforms were loaded at sr={x_sr}; load them with "
                    f"AudioLoader(sr={sr})."
                )
            n_fft = self.frontend_[0].n_fft
            return check_waveforms(self, X, reset=True if reset else None, min_samples=n_fft)
        # A user's pipeline takes paths (when it starts with an AudioLoader) or arrays
        # of any length; its own steps check what is specific to them.
        if is_paths(X):
            return X
        X = validate_array(self, X, reset=True if reset else None, owner=type(self).__name__)
        check_finite(X, type(self).__name__)
        return X

    def fit(self, X, y=None):
        """Load or take the source network; nothing is trained.

        Parameters
        ----------
        X : array-like
            Mono waveforms ``(n_clips, n_samples)`` at :attr:`sr` for a shipped
            network; the source pipeline's input for a pipeline; otherwise the
            spectrograms the source network takes.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        self.frontend_, self.estimator_, self._device = self._load_source()
        self.input_shape_ = tuple(self.estimator_.input_shape_)
        self._check_input(X, reset=True)
        self._set_layers(self.estimator_.net_.module_, self.estimator_.architecture_)
        return self

    def transform(self, X):
        """Pooled outputs of the chosen layers of the source network, concatenated.

        Parameters
        ----------
        X : array-like
            As in :meth:`fit` (any clip length).

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_features)
        """
        check_is_fitted(self, "estimator_")
        X = self._check_input(X, reset=False)
        if self.frontend_ is not None:
            X = check_spectrograms(self, self.frontend_.transform(X), reset=None)
            self._check_shape(X)
        return self._features(self.estimator_.net_.module_, _as_4d(X), self._device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if isinstance(self.source, str):
            tags.input_tags.three_d_array = False
        return tags


__all__ = ["RandomWeightsFeatures", "TransferFeatures"]
