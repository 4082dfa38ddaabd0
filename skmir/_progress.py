"""Where a network's epochs are reported while a longer run (skmir compare) waits on it.

A fold of a neural model takes minutes; :func:`skmir.compare` runs each fold under
:func:`epoch_progress` with a function that shows "conv2d fold 3/5 epoch 7/30", and
:class:`skmir.nn.training.SkmirNet` calls :func:`report_epoch` at the end of every
epoch. Outside such a context a plain ``fit`` prints skorch's own epoch table when
``verbose > 0``, which ``verbose="auto"`` (the default) turns on when a person is
watching (:func:`resolve_verbose`). Kept free of torch so that
:mod:`skmir.model_selection` can import it.
"""

import contextvars
import sys
from contextlib import contextmanager

_REPORT = contextvars.ContextVar("skmir_epoch_progress", default=None)


@contextmanager
def epoch_progress(report):
    """Within this context, every finished training epoch calls ``report(epoch,
    max_epochs)``.

    Examples
    --------
    >>> from skmir._progress import epoch_progress, report_epoch
    >>> seen = []
    >>> with epoch_progress(lambda epoch, total: seen.append((epoch, total))):
    ...     report_epoch(1, 30)
    >>> report_epoch(2, 30)  # outside: nobody listens
    >>> seen
    [(1, 30)]
    """
    token = _REPORT.set(report)
    try:
        yield
    finally:
        _REPORT.reset(token)


def report_epoch(epoch, max_epochs):
    """Tell the listener of :func:`epoch_progress`, if any, that ``epoch`` finished."""
    report = _REPORT.get()
    if report is not None:
        report(epoch, max_epochs)


def resolve_verbose(verbose):
    """What ``verbose="auto"`` of a neural estimator means here and now.

    1 (an epoch line) when a person is watching: standard output is a terminal, or
    the code runs in a Jupyter kernel; 0 where nobody reads the lines as they come
    (a test run, a docs build, a log file) and inside :func:`epoch_progress`, whose
    listener (``skmir compare``'s bar) reports the epochs itself. Any other value
    is returned as it is.

    Examples
    --------
    >>> from skmir._progress import epoch_progress, resolve_verbose
    >>> resolve_verbose(2)
    2
    >>> with epoch_progress(print):
    ...     resolve_verbose("auto")
    0
    """
    if not isinstance(verbose, str):
        return verbose
    if _REPORT.get() is not None:
        return 0
    watched = "ipykernel" in sys.modules or getattr(sys.stdout, "isatty", lambda: False)()
    return int(watched)
