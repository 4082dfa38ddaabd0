"""Tagging audio with a shipped network: :class:`PretrainedTagger` and the files behind
the ``skmir tag`` command.

The shipped networks were trained as taggers: the musicnn networks on real music
(50 tags of MagnaTagATune or of the Million Song Dataset: genres, instruments,
moods, voices, eras), ``choi2017-tags`` on generated music. :class:`PretrainedTagger`
puts one in a scikit-learn pipeline as it is: ``fit`` trains nothing, and
``predict_proba`` gives each clip's tag probabilities.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skmir._validation import NamedRefusals, check_fixed_rate_mono


class PretrainedTagger(NamedRefusals, TransformerMixin, BaseEstimator):
    """Tag clips with a network shipped with skmir (no training).

    For a musicnn network, each clip is cut into patches of 3 s (as musicnn's own
    tagger does, see ``patch_hop``) and the clip's tag probabilities are the mean of
    its patches'; :meth:`taggram` gives them patch by patch (the tags over time).
    ``choi2017-tags`` pools over the whole clip itself.

    The tagger is also a transformer: ``transform`` is :meth:`predict_proba`, the
    tag probabilities as features for a shallow classifier.

    Parameters
    ----------
    source : str, default="musicnn-mtt"
        One of :func:`skmir.list_pretrained`.
    threshold : float, default=0.5
        :meth:`predict` sets a tag when its probability is at least this.
    patch_hop : int, default=187
        musicnn networks only: frames (16 ms each) between the starts of patches; 187
        (musicnn's default) means no overlap.
    batch_size : int, default=64
        Patches (or clips) per forward pass.
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    sr : int or None, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns); the network's
        rate (16000) declares that plain arrays are at it. skmir never resamples
        silently, so any other rate is refused.

    Attributes
    ----------
    tags_ : ndarray of str
        The tag of each column of :meth:`predict_proba`.
    classes_ : ndarray of int
        ``arange(n_tags)``.
    card_ : dict
        The network's model card (training data, scores, licence).
    network_ : skmir.pretrained.network.ShippedNetwork
        The loaded network (:func:`skmir.pretrained.load_pretrained`).
    n_features_in_ : int
        Samples per clip seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import PretrainedTagger
    >>> tagger = PretrainedTagger("musicnn-mtt", sr=16000).fit(np.zeros((1, 16000), "float32"))
    >>> t = np.arange(16000 * 4) / 16000
    >>> audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32")[None]
    >>> tagger.predict_proba(audio).shape, tagger.tags_[:3].tolist()
    ((1, 50), ['guitar', 'classical', 'slow'])
    """

    _parameter_constraints = {
        "source": [str],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "patch_hop": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "sr": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, source="musicnn-mtt", *, threshold=0.5, patch_hop=187, batch_size=64,
                 device="auto", sr=None):
        self.source = source
        self.threshold = threshold
        self.patch_hop = patch_hop
        self.batch_size = batch_size
        self.device = device
        self.sr = sr

    def fit(self, X=None, y=None):
        """Load the network; nothing is trained.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or None
            Mono waveforms at 16 kHz, only checked; None skips the check.
        y : ignored

        Returns
        -------
        self
        """
        from skmir.nn.device import resolve_device
        from skmir.pretrained import load_pretrained

        self._validate_params()
        self.network_ = load_pretrained(self.source, device=resolve_device(
            self.device, owner=type(self).__name__))
        self.network_.require_level("clip", type(self).__name__)
        self.card_ = self.network_.card
        self.tags_ = np.asarray(self.card_["tags"], dtype=object)
        self.classes_ = np.arange(len(self.tags_))
        if X is not None:
            self._check(X, reset=True)
        return self

    def _check(self, X, reset):
        return check_fixed_rate_mono(self, X, self.sr, int(self.card_["sr"]),
                                     reset=True if reset else None,
                                     min_samples=self.network_.min_samples,
                                     owner=f"{type(self).__name__}({self.source!r})")

    def taggram(self, X):
        """Tag probabilities patch by patch: the tags over time (musicnn networks).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 16 kHz.

        Returns
        -------
        taggram : ndarray of float32, shape (n_clips, n_patches, n_tags)
            Patch ``k`` starts at ``k * patch_hop * 256 / 16000`` s.
        """
        check_is_fitted(self, "network_")
        if self.network_.patch_frames is None:
            raise ValueError(
                f"{type(self).__name__}({self.source!r}): a taggram needs a network that "
                "tags patches (the musicnn networks); this one pools the whole clip."
            )
        return self._run(X)

    def _run(self, X):
        """Tag probabilities of every patch (the whole clip: one) of every clip."""
        X = self._check(X, reset=False)
        return self.network_.run(X, self.network_.probabilities, patch_hop=self.patch_hop,
                                 batch_size=self.batch_size)

    def predict_proba(self, X):
        """Tag probabilities of each clip, in the order of ``tags_``.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 16 kHz.

        Returns
        -------
        proba : ndarray of float32, shape (n_clips, n_tags)
        """
        check_is_fitted(self, "network_")
        return self._run(X).mean(axis=1)

    def predict(self, X):
        """Tags with probability >= ``threshold``, as an indicator matrix.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        tags : ndarray of int, shape (n_clips, n_tags)
        """
        return (self.predict_proba(X) >= self.threshold).astype(int)

    def transform(self, X):
        """:meth:`predict_proba`, as features."""
        return self.predict_proba(X)

    def get_feature_names_out(self, input_features=None):
        """The tags, prefixed ``tag_`` (e.g. ``"tag_guitar"``)."""
        check_is_fitted(self, "tags_")
        return np.asarray([f"tag_{t}" for t in self.tags_], dtype=object)

    def top_tags(self, proba, k=5):
        """The ``k`` most probable tags of each row of ``proba``.

        Parameters
        ----------
        proba : ndarray of shape (n_clips, n_tags)
            From :meth:`predict_proba`.
        k : int, default=5

        Returns
        -------
        top : list of list of (str, float)
            Per clip, (tag, probability), most probable first.
        """
        check_is_fitted(self, "tags_")
        owner = f"{type(self).__name__}.top_tags"
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"{owner}: k = {k!r}: allowed: an integer >= 1 (the tags per "
                             f"clip; at most the {len(self.tags_)} tags are returned).")
        proba = np.asarray(proba)
        if proba.ndim != 2 or proba.shape[1] != len(self.tags_):
            raise ValueError(
                f"{owner}: proba of shape {proba.shape}: allowed: (n_clips, "
                f"{len(self.tags_)}), one column per tag of {self.source!r} (from "
                "predict_proba), so that each column is named by its tag.")
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        return [[(str(self.tags_[j]), float(p[j])) for j in row]
                for row, p in zip(order, proba)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


__all__ = ["PretrainedTagger"]
