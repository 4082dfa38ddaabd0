"""The paper's architecture notation as a language: parse, check and lay out layers.

Choi et al. (2017, sec. 5.4-5.7, fig. 13) write networks as strings of layer tokens
joined by ``-``: ``"c2-p2-c2-p2-r1-r2-d1"`` is a CRNN. This module turns such a
string (or a preset name) into a list of :class:`Layer` records, each holding its
token, its position in the string and the hyper-parameters that apply to it. It is
pure Python (no torch), so an estimator checks its ``architecture`` before any
tensor is allocated; :mod:`skmir.nn.builder` turns the layers into a torch module.

Tokens
------
======  ==========================================================================
``d1``  dense layer applied to every frame (on the feature vector of one frame)
``d2``  dense layer over a context of ``context`` frames (a convolution over time
        whose kernel spans every bin and ``context`` frames)
``c1``  1D convolution over time; the kernel spans all frequency bins (and channels)
``c2``  2D convolution over frequency and time
``p1``  max pooling over time only (over frequency only in frame-level networks,
        which must keep every frame)
``p2``  2D max pooling over frequency and time (frequency only, frame-level)
``r1``  recurrent layer (GRU or LSTM), many-to-many: one output per frame
``r2``  recurrent layer, many-to-one: one output per clip (collapses time)
``k1``  key head (clip-level output layer): the frequency axis read as semitones and
        folded into 12 pitch classes, time and octaves pooled, and every (tonic,
        mode) scored by one set of weights rotated to each tonic
======  ==========================================================================

``k1`` makes a network equivariant to transposition: convolutions and time pooling
(``c2``, ``p1``) before it shift with the music, and its weights are shared by the
12 tonics, so what it learns about a key in C serves every key. Its input must keep
the pitch axis at 12 bins per octave (a ``CQT(bins_per_octave=12)`` or a chromagram,
and no ``p2``, which pools frequency); a key task predicts one of the keys it saw,
a mode task the mode whose best key scores highest.

The last token, when it is a dense layer or ``k1``, is the output layer (its width is the
number of classes, tags or targets): ``"c1-p1-c1-p1-d1-d1-d1"`` has two hidden dense
layers, as in the paper. A string that ends otherwise gets a dense output layer
appended.
"""

from dataclasses import dataclass, field
from numbers import Integral, Real

from skmir._validation import entry_point

TOKENS = {
    "d1": "dense layer on every frame",
    "d2": "dense layer over a context of frames",
    "c1": "1D convolution over time (kernel spans all frequency bins)",
    "c2": "2D convolution",
    "p1": "pooling over time",
    "p2": "2D pooling",
    "r1": "recurrent layer, many-to-many",
    "r2": "recurrent layer, many-to-one",
    "k1": "key head (transposition-equivariant output layer)",
}

#: Named structures of the paper's fig. 13. Time-invariant (clip-level) structures
#: first; ``dnn``, ``conv2d_tv`` and ``birnn`` are the time-varying ones.
PRESETS = {
    "conv1d": "c1-p1-c1-p1-d1-d1-d1",
    "conv2d": "c2-p2-c2-p2-c2-p2-d2",
    "crnn": "c2-p2-c2-p2-r1-r2-d1",
    "dnn": "d2-d2-d2-d1",
    "birnn": "r1-r1-d1",
    "conv2d_tv": "c2-c2-p1-c2-c2-p1-c2-p1-d1-d1-d1",
    # After Korzeniowski & Widmer (2017, 2018): convolutions over log-frequency that
    # keep the pitch axis, then a head shared by the 12 tonics (key and mode).
    "keycnn": "c2-c2-p1-c2-c2-p1-c2-k1",
}

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
CELLS = ("gru", "lstm")
OUTPUTS = ("clip", "frame")

# Which tokens take each per-layer hyper-parameter. "hidden" layers are the dense and
# recurrent ones that are not the output layer; the output layer takes only context.
_CONV = ("c1", "c2")
_POOL = ("p1", "p2")
_DENSE = ("d1", "d2")
_RNN = ("r1", "r2")
PARAM_TOKENS = {
    "channels": _CONV,
    "kernel_size": _CONV,
    "batch_norm": _CONV,
    "pool": _POOL,
    "hidden": _DENSE + _RNN,
    "context": ("d2",),
    "activation": _CONV + _DENSE,
    "dropout": _CONV + _DENSE + _RNN,
    "cell": _RNN,
    "bidirectional": _RNN,
}
# Parameters that the output layer also takes (all others are for hidden layers only).
_OUTPUT_PARAMS = ("context",)


@dataclass(frozen=True)
class Layer:
    """One layer of a parsed architecture.

    Attributes
    ----------
    token : str
        ``"d1"``, ``"c2"``..., or ``"out"`` for an appended output layer.
    position : int
        1-based position in the architecture string (0 for an appended layer).
    output : bool
        Whether this is the output layer.
    params : dict
        The hyper-parameters that apply to this layer (see ``PARAM_TOKENS``).
    """

    token: str
    position: int
    output: bool = False
    params: dict = field(default_factory=dict)


def _fail(architecture, message):
    raise ValueError(f"architecture = {architecture!r}: {message}")


def expand(architecture):
    """Return the token string a preset name stands for (other strings unchanged).

    Parameters
    ----------
    architecture : str

    Returns
    -------
    str

    Examples
    --------
    >>> from skmir.nn.architecture import expand
    >>> expand("crnn")
    'c2-p2-c2-p2-r1-r2-d1'
    """
    if not isinstance(architecture, str):
        raise ValueError(
            f"architecture must be a string such as 'c2-p2-c2-p2-r1-r2-d1' or a preset "
            f"name ({', '.join(PRESETS)}), got {architecture!r} of type "
            f"{type(architecture).__name__}."
        )
    key = architecture.strip().lower()
    return PRESETS.get(key, key)


@entry_point
def parse_architecture(architecture, output="clip"):
    """Split an architecture string into tokens and check their order.

    Parameters
    ----------
    architecture : str
        Tokens ``d1 d2 c1 c2 p1 p2 r1 r2 k1`` joined by ``-``, or a preset name
        (``conv1d``, ``conv2d``, ``crnn``, ``dnn``, ``birnn``, ``conv2d_tv``,
        ``keycnn``).
    output : {"clip", "frame"}, default="clip"
        Clip-level networks end in one vector per clip; frame-level ones keep time.

    Returns
    -------
    tokens : tuple of str

    Raises
    ------
    ValueError
        Naming the offending token, its position and what is allowed.

    Examples
    --------
    >>> from skmir.nn.architecture import parse_architecture
    >>> parse_architecture("conv1d")
    ('c1', 'p1', 'c1', 'p1', 'd1', 'd1', 'd1')
    >>> parse_architecture("c2-r1-c2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: parse_architecture: architecture = 'c2-r1-c2': token 'c2' at position 3 ...
    """
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}.")
    string = expand(architecture)
    if not string:
        _fail(architecture, _allowed("the string is empty"))
    tokens = tuple(string.split("-"))
    last = {}  # most recent position of each kind of layer
    for pos, tok in enumerate(tokens, start=1):
        if tok not in TOKENS:
            what = (
                "is empty (two '-' in a row, or a leading or trailing '-')"
                if not tok else "is not a layer"
            )
            _fail(architecture, _allowed(f"token {tok!r} at position {pos} {what}"))
        kind = tok[0]
        if "k1" in last:
            _fail(architecture, f"token {tok!r} at position {pos} comes after the key "
                  f"head 'k1' at position {last['k1'][1]}; k1 is the output layer and "
                  "must come last.")
        if tok == "k1":
            before = [t for t in tokens[:pos - 1] if t not in ("c2", "p1", "p2")]
            if output == "frame":
                _fail(architecture, f"token 'k1' at position {pos} scores one key per "
                      "clip, but a frame-level network must keep one output per frame.")
            if before:
                _fail(architecture, f"token 'k1' at position {pos} reads a pitch axis, "
                      f"which {before[0]!r} removes; only c2, p1 and p2 layers may come "
                      "before k1 (e.g. 'c2-p1-c2-p1-k1').")
        if kind in "cp":
            for prev in ("r", "d"):
                if prev in last:
                    ptok, ppos = last[prev]
                    why = (
                        "convolution and pooling layers must come before recurrent "
                        "layers (a recurrent layer's output has no frequency axis left "
                        "to convolve)"
                        if prev == "r" else
                        "convolution and pooling layers must come before dense layers "
                        "(a dense layer's output has no frequency axis left)"
                    )
                    _fail(
                        architecture,
                        f"token {tok!r} at position {pos} comes after the "
                        f"{'recurrent' if prev == 'r' else 'dense'} layer {ptok!r} at "
                        f"position {ppos}; {why}.",
                    )
        if tok in ("c2", "p2") and "c1" in last:
            _fail(
                architecture,
                f"token {tok!r} at position {pos} comes after 'c1' at position "
                f"{last['c1'][1]}, whose kernel spans all frequency bins, so no frequency "
                "axis is left for a 2D layer; use c1 and p1 after a c1.",
            )
        if "r2" in last and tok != "d1":
            _fail(
                architecture,
                f"token {tok!r} at position {pos} comes after 'r2' at position "
                f"{last['r2'][1]}, which summarises the whole clip in one vector "
                "(many-to-one); only d1 layers may follow r2.",
            )
        if tok == "r2" and output == "frame":
            _fail(
                architecture,
                f"token 'r2' at position {pos} collapses time (many-to-one), but a "
                "frame-level network must keep one output per frame; use r1.",
            )
        last[kind] = (tok, pos)
        last[tok] = (tok, pos)
    return tokens


def _allowed(message):
    return (
        f"{message}. Allowed: the tokens {', '.join(TOKENS)} joined by '-' "
        f"(e.g. 'c2-p2-c2-p2-r1-r2-d1'), or a preset name: {', '.join(PRESETS)}."
    )


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _is_pair(value):
    return (
        isinstance(value, (tuple, list)) and len(value) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
    )


def _check_value(name, value, token):
    """Validate one layer's value of a hyper-parameter; return it normalised."""
    def bad(allowed):
        raise ValueError(f"{name}={value!r} is not valid for a {token} layer: {allowed}.")

    if name in ("channels", "hidden", "context"):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
            bad("expected an int >= 1")
        return int(value)
    if name in ("kernel_size", "pool"):
        two_d = token in ("c2", "p2")
        if isinstance(value, Integral) and not isinstance(value, bool) and value >= 1:
            return (int(value), int(value)) if two_d else int(value)
        if two_d and _is_pair(value) and min(value) >= 1:
            return tuple(int(v) for v in value)
        bad(
            "expected an int >= 1 or a (frequency, time) pair of ints"
            if two_d else f"expected an int >= 1 ({token} works along one axis)"
        )
    if name == "dropout":
        if not isinstance(value, Real) or isinstance(value, bool) or not 0 <= value < 1:
            bad("expected a float in [0, 1)")
        return float(value)
    if name in ("batch_norm", "bidirectional"):
        if not isinstance(value, (bool, Integral)) or value not in (0, 1):
            bad("expected True or False")
        return bool(value)
    if name == "activation":
        if value not in ACTIVATIONS:
            bad(f"expected one of {ACTIVATIONS}")
        return value
    if name == "cell":
        if value not in CELLS:
            bad(f"expected one of {CELLS}")
        return value
    raise KeyError(name)  # pragma: no cover - PARAM_TOKENS and this function agree


def _per_layer(value):
    """Whether ``value`` holds one value per layer (rather than one for all).

    A tuple or list always means one value per layer, even a bare pair such as
    ``kernel_size=(3, 5)``, so that a value is never ambiguous; a 2D kernel for
    every layer is written ``[(3, 5)] * n_layers``.
    """
    return isinstance(value, (tuple, list))


def layout(architecture, *, output="clip", **params):
    """Parse an architecture and give every layer its hyper-parameters.

    Each hyper-parameter is one value for all the layers that take it, or a
    tuple/list with one value per such layer (in string order).

    Parameters
    ----------
    architecture : str
        Token string or preset name (see :func:`parse_architecture`).
    output : {"clip", "frame"}, default="clip"
    **params
        Any of ``channels``, ``kernel_size``, ``pool``, ``hidden``, ``context``,
        ``activation``, ``batch_norm``, ``dropout``, ``cell``, ``bidirectional``.
        Missing ones are not set on the layers.

    Returns
    -------
    layers : list of Layer
        The layers in order; the output layer is last (appended as token ``"out"``
        when the string does not end in a dense layer).

    Examples
    --------
    >>> from skmir.nn.architecture import layout
    >>> [(l.token, l.params) for l in layout("c1-p1-d1", channels=8, pool=4, hidden=16)]
    [('c1', {'channels': 8}), ('p1', {'pool': 4}), ('d1', {})]
    >>> layout("c2-p2-c2", channels=(8, 16, 32))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: channels=(8, 16, 32) has 3 values but architecture 'c2-p2-c2' has 2 layers ...
    """
    tokens = parse_architecture(architecture, output=output)
    string = "-".join(tokens)
    is_output = [False] * len(tokens)
    if tokens[-1] in _DENSE + ("k1",):
        is_output[-1] = True
    layers = [Layer(tok, pos, out, {}) for pos, (tok, out) in
              enumerate(zip(tokens, is_output, strict=True), start=1)]
    for name, value in params.items():
        if name not in PARAM_TOKENS:
            raise TypeError(f"unknown layer parameter {name!r}")
        users = [
            layer for layer in layers
            if layer.token in PARAM_TOKENS[name]
            and (not layer.output or name in _OUTPUT_PARAMS)
        ]
        if _per_layer(value):
            values = list(value)
            if len(values) != len(users):
                where = ", ".join(f"{u.token} at position {u.position}" for u in users)
                raise ValueError(
                    f"{name}={value!r} has {_plural(len(values), 'value')} but "
                    f"architecture {string!r} has {_plural(len(users), 'layer')} that "
                    f"take{'s' if len(users) == 1 else ''} {name}"
                    + (f" ({where})" if users else "")
                    + "; pass one value for all of them or one per layer."
                )
        else:
            values = [value] * len(users)
        for layer, v in zip(users, values, strict=True):
            layer.params[name] = _check_value(name, v, layer.token)
    if not is_output[-1]:
        layers.append(Layer("out", 0, True, {}))
    return layers
