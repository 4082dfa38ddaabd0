"""``choi2017-tags``: a network of skmir's architecture language over a log-mel front end.

The network (Choi et al., 2017: five 3x3 convolutional layers of 32 channels, each
with batch norm, ReLU and 2x2 max pooling, then global pooling and a dense output)
was trained by ``tools/train_choi2017.py`` as a :class:`skmir.NeuralTagger`, whose
file holds its parameters and weights as plain values and tensors. Here it is rebuilt
from its architecture string by :mod:`skmir.nn.builder` and its front end from the
card by :mod:`skmir.representations` and :mod:`skmir.preprocessing`, with no
estimator: ``MelSpectrogram -> LogCompression -> SpectrogramScaler``, the scaler
"fitted" with the source training set's statistics written in the card.
"""

import numpy as np
from sklearn.pipeline import make_pipeline

from skmir._feature_layers import feature_layers, layer_name
from skmir.preprocessing import SpectrogramScaler
from skmir.pretrained.network import ShippedNetwork
from skmir.representations import LogCompression, MelSpectrogram


def logmel_frontend(card):
    """The fitted front end of a card: waveforms in, standardised log-mel out.

    Parameters
    ----------
    card : dict
        With ``sr``, ``representation`` (MelSpectrogram parameters),
        ``log_compression`` and ``standardisation`` (``mean`` and ``scale`` per mel
        bin).

    Returns
    -------
    frontend : sklearn.pipeline.Pipeline
        Steps ``"melspectrogram"``, ``"logcompression"``, ``"spectrogramscaler"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import model_card
    >>> from skmir.pretrained.choi2017 import logmel_frontend
    >>> frontend = logmel_frontend(model_card("choi2017-tags"))
    >>> frontend.transform(np.zeros((1, 16000), "float32")).shape
    (1, 64, 32)
    """
    frontend = make_pipeline(MelSpectrogram(sr=card["sr"], **card["representation"]),
                             LogCompression(**card["log_compression"]), SpectrogramScaler())
    scaler = frontend.named_steps["spectrogramscaler"]
    scaler.mean_ = np.asarray(card["standardisation"]["mean"], dtype=np.float32)
    scaler.scale_ = np.asarray(card["standardisation"]["scale"], dtype=np.float32)
    scaler.n_features_in_ = len(scaler.mean_)
    return frontend


class Choi2017Network(ShippedNetwork):
    """``choi2017-tags`` loaded: an :class:`skmir.nn.builder.ArchitectureNet` and its
    log-mel front end.

    Made by :func:`skmir.pretrained.load_pretrained` for cards without an
    ``architecture`` field. The network takes whole clips ``(batch, 1, n_mels,
    n_frames)`` and pools over time itself; its layers that give features are its
    non-pooling layers before the output, named ``layer<k>_<token>`` as the feature
    names of :class:`skmir.TransferFeatures` and
    :class:`skmir.RandomWeightsFeatures` number them.

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
            module = ArchitectureNet(layers, tuple(fitted["input_shape_"]),
                                     fitted["n_outputs_"], output="clip",
                                     global_pool=params["global_pool"])
            module.load_state_dict(state["weights"])
        except (KeyError, TypeError, ValueError, RuntimeError, OSError) as exc:
            raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); "
                             "reinstall skmir.") from exc
        available = feature_layers(module.shapes)
        layers = {layer_name(k, tok): (int(shape[0]), len(shape) > 1)
                  for k, (_, tok, shape) in enumerate(available, start=1)}
        return cls(name=name, card=card, frontend=logmel_frontend(card),
                   module=module.to(torch.device(device)).eval(), layers=layers,
                   auto_layers=tuple(layers), input_shape=tuple(fitted["input_shape_"]),
                   device=device, min_samples=int(card["representation"]["n_fft"]),
                   patch_frames=None)

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
