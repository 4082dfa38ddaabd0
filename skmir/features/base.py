"""What the deep feature extractors share: which layers give features, global pooling
of their outputs, batched extraction and feature names."""

from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from skmir._allocator import keep_freed_memory
from skmir._feature_layers import feature_layers, layer_name
from skmir._validation import LazyClips, NamedRefusals, check_spectrograms

POOLINGS = ("avg", "max", "both")


def select_layers(layers, available, owner, architecture):
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
                f"{owner}: layers = {layers!r}: layer {k!r} does not exist. Architecture "
                f"{architecture!r} has {n} layer(s) that give features ({listing}; "
                "pooling and the output layer do not); pass 'all', a number in "
                f"1..{n} (or -{n}..-1 from the end), or a list of them."
            )
        picked.append(k - 1 if k > 0 else n + k)
    if len(set(picked)) != len(picked):
        raise ValueError(f"{owner}: layers = {layers!r}: names a layer twice.")
    return sorted(picked)


def pool_output(h, pooling):
    """Global pooling of one layer's output over bins and frames."""
    if h.ndim == 2:  # dense layers after the network's own global pooling
        return [h]
    if pooling == "avg":
        return [h.mean(dim=(2, 3))]
    if pooling == "max":
        return [h.amax(dim=(2, 3))]
    return [h.mean(dim=(2, 3)), h.amax(dim=(2, 3))]


def feature_names(available, selected, pooling):
    names = []
    for k in selected:
        _, tok, shape = available[k]
        width = shape[0]
        kinds = [""] if len(shape) == 1 else (["avg", "max"] if pooling == "both"
                                              else [pooling])
        for kind in kinds:
            names += [f"{layer_name(k + 1, tok)}_{kind}{j}" for j in range(width)]
    return np.asarray(names, dtype=object)


def extract(net, X4, modules, pooling, batch_size, device):
    """Run ``net`` up to the last wanted module, pooling the wanted outputs."""
    from skmir.nn.blocks import as_4d as to_4d_tensor

    wanted, last = set(modules), max(modules)
    keep_freed_memory()  # batch after batch: freed batches stay in the heap
    was_training = net.training
    net.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(X4), batch_size):
                h = to_4d_tensor(torch.as_tensor(X4[start:start + batch_size]).to(device))
                feats = []
                for i, module in enumerate(net.layers):
                    h = module(h)
                    if i in wanted:
                        feats += pool_output(h, pooling)
                    if i == last:
                        break
                out.append(torch.cat(feats, dim=1).float().cpu().numpy())
    finally:
        net.train(was_training)
    return np.concatenate(out)


def as_4d(X):
    return X[:, None, :, None] if X.ndim == 2 else X[:, None] if X.ndim == 3 else X


class DeepFeatures(NamedRefusals, TransformerMixin, BaseEstimator):
    """Shared machinery: layer choice, pooling, batched extraction, feature names."""

    def _set_layers(self, net, architecture, layers=None):
        available = feature_layers(net.shapes)
        layers = self.layers if layers is None else layers
        selected = select_layers(layers, available, type(self).__name__, architecture)
        self.feature_layers_ = [k + 1 for k in selected]
        self._modules = [available[k][0] for k in selected]
        self._names = feature_names(available, selected, self.pooling)

    def _features(self, net, X4, device):
        if not isinstance(X4, LazyClips):  # a lazy X is read batch by batch
            X4 = np.ascontiguousarray(X4, dtype=np.float32)
        return extract(net, X4, self._modules, self.pooling, self.batch_size, device)

    def _check_shape(self, X):
        per_clip = tuple(as_4d(X).shape[1:3])
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


def check_transform_input(estimator, X):
    """Spectrograms at transform: 2-D input is checked against n_features_in_ by
    sklearn (whose message counts features), 3-D/4-D by the (channels, bins) check."""
    X = check_spectrograms(estimator, X, reset=None)
    if X.ndim == 2:
        validate_data(estimator, X, reset=False, dtype=None, ensure_all_finite=False)
    estimator._check_shape(X)
    return X
