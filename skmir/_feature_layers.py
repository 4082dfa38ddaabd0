"""Which layers of a network built from an architecture string give features.

One rule, shared by the feature extractors (:mod:`skmir.features`) and the shipped
networks built from architecture strings (:mod:`skmir.pretrained`): every layer of
:class:`skmir.nn.builder.ArchitectureNet` except pooling and the output layer. Pure
Python over the network's ``shapes``, so it needs no torch.
"""

NOT_FEATURES = ("p1", "p2", "global pool")


def feature_layers(shapes):
    """Module indices, tokens and output shapes of the layers that give features.

    Parameters
    ----------
    shapes : list of (str, tuple)
        ``ArchitectureNet.shapes``: each module's token and output shape, aligned with
        its ``layers`` (global pooling included).

    Returns
    -------
    layers : list of (int, str, tuple)
        In string order; pooling and the last module (the output layer) left out.

    Examples
    --------
    >>> from skmir._feature_layers import feature_layers
    >>> feature_layers([("c2", (8, 32)), ("p2", (8, 16)), ("global pool", (128,)),
    ...                 ("out", (3,))])
    [(0, 'c2', (8, 32))]
    """
    found = [(i, tok, tuple(shape)) for i, (tok, shape) in enumerate(shapes)
             if tok not in NOT_FEATURES]
    return found[:-1]  # the last one is the output layer


def layer_name(k, token):
    """The name of the ``k``-th layer (from 1) that gives features: ``layer<k>_<token>``.

    Examples
    --------
    >>> from skmir._feature_layers import layer_name
    >>> layer_name(3, "c2")
    'layer3_c2'
    """
    return f"layer{k}_{token}"
