"""Features from a network with random weights (the paper's sec. 2.3)."""

from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmir._validation import check_spectrograms
from skmir.features.base import POOLINGS, DeepFeatures, as_4d, check_transform_input
from skmir.nn.architecture import layout
from skmir.nn.device import resolve_device


class RandomWeightsFeatures(DeepFeatures):
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
        "pooling": [StrOptions(set(POOLINGS))],
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
        self.input_shape_ = tuple(int(s) for s in as_4d(X).shape[1:3])
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self._device = resolve_device(self.device, owner=type(self).__name__)
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
        X = check_transform_input(self, X)
        return self._features(self.network_, as_4d(X), self._device)
