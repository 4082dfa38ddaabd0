"""The device a ``device`` parameter names, checked once, before any tensor is made.

Every skmir object that runs torch code (the neural estimators, the feature
extractors, the tagger, the representations' ``backend="torch"``, the loader of the
shipped networks) turns its ``device`` parameter into a torch device here, so a
device that cannot work is refused with one clear message, naming the object, instead
of an error from deep inside torch (``Torch not compiled with CUDA enabled``,
``unsupported scalarType``) halfway through a fit.
"""

import torch

#: The kinds of device skmir runs on. ``"mps"`` is not among them: skmir accumulates
#: statistics in float64, which Apple's MPS backend does not offer.
DEVICE_TYPES = ("cpu", "cuda")


def resolve_device(device, owner=None):
    """The torch device of a ``device`` parameter: ``"auto"`` is CUDA when available.

    Parameters
    ----------
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.
    owner : str or None, default=None
        The estimator or function whose parameter it is, named in errors.

    Returns
    -------
    device : str

    Raises
    ------
    ValueError
        For a string that is no torch device, a CUDA device where torch sees none (or
        an index past the last), and any other kind of device (``"mps"``, ``"meta"``,
        ...).

    Examples
    --------
    >>> from skmir.nn.device import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("meta", owner="NeuralClassifier")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: NeuralClassifier: device='meta' is a 'meta' device; skmir runs on 'auto', ...
    """
    prefix = f"{owner}: " if owner else ""
    allowed = "'auto', 'cpu', 'cuda' or 'cuda:<index>'"
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{prefix}device={device!r} is not a torch device; use {allowed}.") \
            from None
    if kind.type not in DEVICE_TYPES:
        why = " (skmir needs float64, which MPS lacks)" if kind.type == "mps" else ""
        raise ValueError(f"{prefix}device={device!r} is a {kind.type!r} device{why}; skmir "
                         f"runs on {allowed}.")
    if kind.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{prefix}device={device!r}, but CUDA is not available here "
                "(torch.cuda.is_available() is False: no GPU, or a CPU-only build of "
                "torch); use device='auto' or 'cpu'.")
        if kind.index is not None and kind.index >= torch.cuda.device_count():
            raise ValueError(
                f"{prefix}device={device!r}, but torch sees {torch.cuda.device_count()} "
                f"CUDA device(s), numbered from 0.")
    return str(device)
