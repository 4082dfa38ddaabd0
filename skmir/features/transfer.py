"""Transfer learning: a network trained on a source task as a feature extractor."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skmir._validation import (
    check_finite,
    check_lazy,
    check_spectrograms,
    check_waveforms,
    fixed_rate_input,
    is_lazy,
    validate_array,
)
from skmir.features.base import POOLINGS, DeepFeatures, as_4d, check_transform_input
from skmir.io import is_paths
from skmir.neural.base import BaseNeuralEstimator
from skmir.nn.device import resolve_device
from skmir.store import check_frontend, frontend_of


def _unwrap(source):
    """The fitted skmir network (and any fitted front end) inside ``source``."""
    from sklearn.frozen import FrozenEstimator

    if isinstance(source, FrozenEstimator):
        source = source.estimator
    frontend = None
    if isinstance(source, Pipeline):
        frontend, source = source[:-1], source[-1]
    return frontend, source


class TransferFeatures(DeepFeatures):
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
          computes its own input representation. The musicnn networks
          (``"musicnn-msd"``, ``"musicnn-mtt"``, ``"vgg-msd"``, ``"vgg-mtt"``, trained
          on real music) cut each clip into patches of 3 s (see ``patch_hop``); a
          clip's features are the mean of its patches' features;
        - a fitted :class:`~skmir.NeuralClassifier`, :class:`~skmir.NeuralTagger`,
          :class:`~skmir.NeuralRegressor` (or frame-level estimator): it takes the
          spectrograms it was trained on;
        - a fitted Pipeline ending in one of these (the pipeline's earlier steps are
          the front end), or any of these wrapped in
          :class:`sklearn.frozen.FrozenEstimator`.

        A fitted source is shared, not copied, by clones (``clone`` would otherwise
        return an unfitted source), so cross-validation never refits it.
    layers : "auto", "all", int, str or list, default="auto"
        Which layers give features: "all" of them; numbers from 1 over the layers
        that give features (the non-pooling layers of a skmir network, the output
        layer excluded), negative numbers counting from the end; or, for a shipped
        network, the names of its layers (``load_pretrained(source).layers``:
        musicnn's ``timbral``, ``temporal``, ``cnn1``-``cnn3``, ``mean_pool``,
        ``max_pool``, ``penultimate``; VGG's ``pool1``-``pool5``; choi2017-tags's
        ``layer1_c2``-``layer5_c2``). "auto" is "all", except for musicnn:
        ``["mean_pool", "max_pool"]`` (every front- and mid-end channel, mean and max
        over time), which did best among the choices
        ``examples/musicnn_transfer.py --layers`` compares.
    pooling : {"avg", "max", "both"}, default="avg"
        Global pooling of each layer's output over bins and frames (for musicnn
        networks, over each patch's frames and mel bands).
    patch_hop : int, default=187
        Networks that tag patches (the musicnn networks) only: frames (of 16 ms)
        between the starts of a clip's 3-s patches; 187 is musicnn's own (no overlap).
    batch_size : int, default=64
        Clips (or patches) per forward pass.
    device : str, default="auto"
        Device of a shipped network (``"auto"``: CUDA when available). A fitted
        source stays on its own device.

    Attributes
    ----------
    estimator_ : skmir neural estimator or skmir.pretrained.network.ShippedNetwork
        The source network: the given one, or the shipped one, loaded
        (:func:`skmir.pretrained.load_pretrained`).
    frontend_ : transformer or None
        What turns the input into the network's input (None: X is the input).
    feature_layers_ : list of int or list of str
        The layers that give features: numbers for a fitted source, layer names for
        a shipped network.
    n_features_in_ : int
        Samples per clip (waveform input) or bins (spectrogram input) seen in fit.
    store_frontend_ : dict or None
        A fitted source only: the front end of the feature store the source was
        fitted on, else of the store given to ``fit`` (:func:`skmir.store.frontend_of`);
        a store made by another front end is refused. None: no store was seen.

    See Also
    --------
    RandomWeightsFeatures : the same features from an untrained network.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import TransferFeatures
    >>> from skmir import Waveforms
    >>> tf = TransferFeatures("choi2017-tags")
    >>> tf.sr
    16000
    >>> audio = np.random.default_rng(0).normal(size=(2, 16000)).astype("float32")
    >>> tf.fit_transform(Waveforms(audio, sr=16000)).shape  # audio that says its rate
    (2, 160)
    """

    _parameter_constraints = {
        "source": [str, BaseEstimator],
        "layers": [str, Integral, list, tuple],
        "pooling": [StrOptions(set(POOLINGS))],
        "patch_hop": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
    }

    def __init__(self, source, *, layers="auto", pooling="avg", patch_hop=187, batch_size=64,
                 device="auto"):
        self.source = source
        self.layers = layers
        self.pooling = pooling
        self.patch_hop = patch_hop
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
        """Sample rate the input must have: the model card's for a shipped network
        (whose waveforms must say their rate: :class:`skmir.Waveforms`, as
        :class:`skmir.AudioLoader` returns), the front end's ``sr`` for a pipeline
        source, None for spectrogram input."""
        if isinstance(self.source, str):
            from skmir.pretrained.cards import read_card

            return int(read_card(self.source)["sr"])
        frontend, _ = _unwrap(self.source)
        for step in (frontend.named_steps.values() if frontend is not None else ()):
            if "sr" in step.get_params(deep=False):
                return step.get_params(deep=False)["sr"]
        return None

    def _load_source(self):
        owner = type(self).__name__
        if isinstance(self.source, str):
            from skmir.pretrained import load_pretrained

            network = load_pretrained(self.source, device=resolve_device(
                self.device, owner=type(self).__name__))
            network.require_level("clip", owner)
            return network.frontend, network, network.device
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
        if not hasattr(estimator.net_.module_, "shapes"):
            raise ValueError(
                f"{owner}: the source {type(estimator).__name__} fine-tunes a shipped "
                f"network ({estimator.architecture_!r}); take features of the shipped one "
                f"with {owner}({estimator.architecture_!r})."
            )
        if frontend is not None:
            check_is_fitted(frontend)
        return frontend, estimator, estimator.net_.device

    def _check_input(self, X, reset):
        owner = type(self).__name__
        if self.frontend_ is None:  # spectrograms for the network
            if is_lazy(X):  # a FeatureStore, a memmap: read batch by batch
                # The front end of the source's store, else of the fit's own.
                check_frontend(X, getattr(self, "store_frontend_", None), owner)
                if reset and self.store_frontend_ is None:
                    self.store_frontend_ = frontend_of(X)
                if reset or len(X.shape) == 2:  # as check_transform_input
                    validate_data(self, X, reset=reset, skip_check_array=True)
                X4 = check_lazy(X, owner)
                self._check_shape(X4)
                return X4
            if not reset:
                return check_transform_input(self, X)
            X = check_spectrograms(self, X, reset=True)
            self._check_shape(X)
            return X
        if isinstance(self.source, str):
            sr = self.sr
            ndim = np.ndim(X)
            if ndim != 2:
                raise ValueError(
                    f"{owner}({self.source!r}) computes its own log-mel-spectrogram and takes "
                    f"mono waveforms (n_clips, n_samples) at sr={sr} Hz; got an array of "
                    f"{ndim} dimension(s) with shape {np.shape(X)}. Pass the audio, e.g. "
                    f"make_pipeline(AudioLoader(sr={sr}), {owner}({self.source!r}), SVC())."
                )
            # the card's rate is not one the user declared: X must say its own
            fixed_rate_input(X, None, sr, f"{owner}({self.source!r})")
            return check_waveforms(self, X, reset=True if reset else None,
                                   min_samples=self.estimator_.min_samples)
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
        self._shipped = isinstance(self.source, str)
        if self._shipped:
            self._check_input(X, reset=True)
            self._set_named_layers(self.estimator_)
            return self
        self.input_shape_ = tuple(self.estimator_.input_shape_)
        self.store_frontend_ = getattr(self.estimator_, "store_frontend_", None)
        self._check_input(X, reset=True)
        layers = "all" if isinstance(self.layers, str) and self.layers == "auto" else self.layers
        self._set_layers(self.estimator_.net_.module_, self.estimator_.architecture_, layers)
        return self

    def _set_named_layers(self, network):
        """Resolve ``layers`` to the shipped network's layer names; name every column."""
        owner, available = type(self).__name__, list(network.layers)
        layers = self.layers
        if isinstance(layers, str) and layers == "auto":
            layers = list(network.auto_layers)
        if isinstance(layers, str) and layers == "all":
            layers = available
        chosen = [layers] if isinstance(layers, (str, Integral)) else list(layers)
        names = []
        for k in chosen:
            if isinstance(k, Integral) and not isinstance(k, bool) \
                    and 1 <= abs(k) <= len(available):
                k = available[k - 1 if k > 0 else len(available) + k]
            if k not in available:
                raise ValueError(
                    f"{owner}: layers = {self.layers!r}: layer {k!r} does not exist in "
                    f"{self.source!r}; its layers are {available} (or numbers 1.."
                    f"{len(available)}), 'all' or 'auto'."
                )
            names.append(k)
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: layers = {self.layers!r}: names a layer twice.")
        self.feature_layers_ = names
        kinds = ["avg", "max"] if self.pooling == "both" else [self.pooling]
        self._names = np.asarray(
            [f"{name}_{kind}{j}" if spatial else f"{name}_{j}"
             for name in names for spatial in [network.layers[name][1]]
             for kind in (kinds if spatial else [""])
             for j in range(network.layers[name][0])], dtype=object)

    def _shipped_features(self, X):
        network, layers, pooling = self.estimator_, self.feature_layers_, self.pooling

        def pooled(batch):
            import torch

            cols = []
            for h in network.layer_outputs(batch, layers).values():
                if h.ndim == 2:  # already one vector per input
                    cols.append(h)
                    continue
                axes = tuple(range(1, h.ndim - 1))  # time (and mel); channels are last
                if pooling in ("avg", "both"):
                    cols.append(h.mean(dim=axes))
                if pooling in ("max", "both"):
                    cols.append(h.amax(dim=axes))
            return torch.cat(cols, dim=1)

        per_patch = network.run(X, pooled, patch_hop=self.patch_hop, batch_size=self.batch_size)
        return per_patch.mean(axis=1)

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
        if self._shipped:
            return self._shipped_features(X)
        if self.frontend_ is not None:
            X = check_spectrograms(self, self.frontend_.transform(X), reset=None)
            self._check_shape(X)
        return self._features(self.estimator_.net_.module_, as_4d(X), self._device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if isinstance(self.source, str):
            tags.input_tags.three_d_array = False
        return tags


__all__ = ["TransferFeatures"]
