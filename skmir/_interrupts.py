"""Whether a Ctrl-C during training stops the whole run or only the training.

skorch ends a ``fit`` quietly on KeyboardInterrupt and keeps the network as it is (or
as early stopping restores it): right for one interactive ``fit``, wrong inside a
cross-validation, where a short-trained fold would be scored as if it were complete.
:func:`skmir.compare` runs its folds under :func:`interrupts_propagate`, and
:class:`skmir.nn.training.SkmirNet` asks :func:`interrupts_propagating` whether to
re-raise. Kept free of torch so that :mod:`skmir.model_selection` can import it.
"""

import contextvars
from contextlib import contextmanager

_PROPAGATE = contextvars.ContextVar("skmir_propagate_interrupts", default=False)


@contextmanager
def interrupts_propagate():
    """Within this context, a KeyboardInterrupt during a skmir network's training
    propagates instead of ending the training early.

    Examples
    --------
    >>> from skmir._interrupts import interrupts_propagate, interrupts_propagating
    >>> with interrupts_propagate():
    ...     interrupts_propagating()
    True
    >>> interrupts_propagating()
    False
    """
    token = _PROPAGATE.set(True)
    try:
        yield
    finally:
        _PROPAGATE.reset(token)


def interrupts_propagating():
    """True inside :func:`interrupts_propagate`."""
    return _PROPAGATE.get()
