"""Networks native to skmir: its architecture language, trained by a script in tools/.

- ``choi2017-tags`` (family ``choi2017``): Choi et al. (2017), five 3x3 convolutional
  layers of 32 channels, each with batch norm, ReLU and 2x2 max pooling, then global
  pooling and a dense output; trained by ``tools/train_choi2017.py`` as a
  :class:`skmir.NeuralTagger` on a log-mel front end.
- ``keycnn-key`` (family ``skmir``): the ``keycnn`` preset (convolutions that keep the
  pitch axis and the key head ``k1``), trained by ``tools/train_keycnn.py`` as a
  :class:`skmir.NeuralClassifier` of the 24 keys on a log-CQT front end.

The estimator's file holds its parameters and weights as plain values and tensors.
Here the network is rebuilt from its architecture string by :mod:`skmir.nn.builder`
and its front end from the card by :mod:`skmir.representations` and
:mod:`skmir.preprocessing`, with no estimator: the card's ``representation_kind``
(``"mel"``, the default, or ``"cqt"``) -> ``LogCompression`` -> a
``SpectrogramScaler`` "fitted" with the training set's statistics when the card
holds them.
"""

import numpy as np
from sklearn.pipeline import make_pipeline

from skmir._feature_layers import feature_layers, layer_name
from skmir.preprocessing import SpectrogramScaler
from skmir.pretrained.network import ShippedNetwork
from skmir.representations import CQT, LogCompression, MelSpectrogram
from skmir.tonality import key_targets

#: The representation transformer of each ``representation_kind`` of a card.
REPRESENTATIONS = {"mel": MelSpectrogram, "cqt": CQT}


def card_frontend(card):
    """The fitted front end of a card: waveforms in, the network's input out.

    Parameters
    ----------
    card : dict
        With ``sr``, ``representation`` (the parameters of the transformer that
        ``representation_kind`` names, :data:`REPRESENTATIONS`; ``"mel"`` when absent),
        ``log_compression`` and optionally ``standardisation`` (``mean`` and
        ``scale`` per bin).

    Returns
    -------
    frontend : sklearn.pipeline.Pipeline
        E.g. steps ``"melspectrogram"``, ``"logcompression"``, ``"spectrogramscaler"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import model_card
    >>> from skmir.pretrained.native import card_frontend
    >>> frontend = card_frontend(model_card("choi2017-tags"))
    >>> frontend.transform(np.zeros((1, 16000), "float32")).shape
    (1, 64, 32)
    """
    representation = REPRESENTATIONS[card.get("representation_kind", "mel")]
    steps = [representation(sr=card["sr"], **card["representation"]),
             LogCompression(**card["log_compression"])]
    if "standardisation" not in card:
        return make_pipeline(*steps)
    frontend = make_pipeline(*steps, SpectrogramScaler())
    scaler = frontend.named_steps["spectrogramscaler"]
    scaler.mean_ = np.asarray(card["standardisation"]["mean"], dtype=np.float32)
    scaler.scale_ = np.asarray(card["standardisation"]["scale"], dtype=np.float32)
    scaler.n_features_in_ = len(scaler.mean_)
    return frontend


class NativeNetwork(ShippedNetwork):
    """A native network loaded: an :class:`skmir.nn.builder.ArchitectureNet` and its
    front end (:func:`card_frontend`).

    Made by :func:`skmir.pretrained.load_pretrained` for the families ``choi2017``
    (cards without an ``architecture`` field) and ``skmir``. The network takes whole
    clips ``(batch, 1, n_bins, n_frames)`` and pools over time itself; its layers
    that give features are its non-pooling layers before the output, named
    ``layer<k>_<token>`` as the feature names of :class:`skmir.TransferFeatures` and
    :class:`skmir.RandomWeightsFeatures` number them. A network trained as a
    :class:`skmir.NeuralTagger` gives a sigmoid per tag; one trained as a
    :class:`skmir.NeuralClassifier` (``keycnn-key``) a softmax over its classes,
    whose labels are its :attr:`tags`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("choi2017-tags")
    >>> list(network.layers)
    ['layer1_c2', 'layer2_c2', 'layer3_c2', 'layer4_c2', 'layer5_c2']
    >>> network.run(np.zeros((2, 16000), "float32"), network.probabilities).shape
    (2, 1, 23)
    """

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the network of the estimator file ``weights`` (read with
        ``torch.load(..., weights_only=True)``) and the front end of ``card``."""
        import torch

        from skmir.nn.architecture import PARAM_TOKENS, layout
        from skmir.nn.builder import ArchitectureNet

        name = card["name"]
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            params, fitted = state["params"], state["fitted"]
            # "auto" values are the estimator's to resolve; they only reach layers the
            # shipped architecture does not have (e.g. bidirectional, for recurrences)
            layers = layout(params["architecture"], output="clip",
                            **{k: v for k, v in params.items()
                               if k in PARAM_TOKENS and v != "auto"})
            keys = (key_targets(fitted["classes_"], name)
                    if layers[-1].token == "k1" else None)
            module = ArchitectureNet(layers, tuple(fitted["input_shape_"]),
                                     fitted["n_outputs_"], output="clip",
                                     global_pool=params["global_pool"], key_targets=keys)
            module.load_state_dict(state["weights"])
        except (KeyError, TypeError, ValueError, RuntimeError, OSError) as exc:
            raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); "
                             "reinstall skmir.") from exc
        available = feature_layers(module.shapes)
        layers = {layer_name(k, tok): (int(shape[0]), len(shape) > 1)
                  for k, (_, tok, shape) in enumerate(available, start=1)}
        rep = card["representation"]
        return cls(name=name, card=card, frontend=card_frontend(card),
                   module=module.to(torch.device(device)).eval(), layers=layers,
                   auto_layers=tuple(layers), input_shape=tuple(fitted["input_shape_"]),
                   device=device, min_samples=int(rep.get("n_fft", rep.get("hop_length", 1))),
                   patch_frames=None)

    def probabilities(self, batch):
        """Tag probabilities (sigmoid per tag) or, for a classifier, class
        probabilities (softmax), ``(batch, n_outputs)``."""
        import torch

        if self.card.get("estimator") == "NeuralClassifier":
            return torch.softmax(self.module(batch), dim=1)
        return torch.sigmoid(self.module(batch))

    def _modules(self):
        """Module index of each layer that gives features, by name."""
        return {layer_name(k, tok): i for k, (i, tok, _) in
                enumerate(feature_layers(self.module.shapes), start=1)}

    def layer_outputs(self, batch, names):
        """The named layers' outputs, ``(batch, n_bins, n_frames, channels)`` (or
        ``(batch, features)`` after global pooling): the modules run up to the last one
        asked for."""
        index = self._modules()
        wanted = {index[name]: name for name in names}
        out, h = {}, batch
        for i, module in enumerate(self.module.layers):
            h = module(h)
            if i in wanted:
                out[wanted[i]] = h.movedim(1, -1) if h.ndim > 2 else h
            if len(out) == len(wanted):
                break
        return out
