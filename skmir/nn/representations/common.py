"""What the torch representations share: the one table of what torch cannot follow,
the checks of their input, and the magnitude of a complex tensor."""

import torch

#: Parameters that say how, not what, to compute: no attribute of the modules.
EXECUTION_PARAMETERS = ("n_jobs", "backend", "device")
#: librosa (np.pad) padding modes that torch's padding computes identically.
TORCH_PAD = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


#: The parameter values the torch modules cannot follow, in one place: parameter ->
#: (test of the value, what to do instead). Everything else a transformer accepts,
#: its module computes.
TORCH_EXCEPTIONS = {
    "pad_mode": (TORCH_PAD.__contains__, "use pad_mode='constant', 'reflect' or 'edge'"),
    "res_type": ("soxr_hq".__eq__, "use res_type='soxr_hq' (the decimator the torch CQT "
                                   "reproduces)"),
    "hybrid": ((False).__eq__, "use hybrid=False (the torch CQT computes every bin with "
                               "the full constant-Q transform, not librosa's hybrid one)"),
}


def check_torch_exceptions(transformer, params):
    """Refuse, naming ``transformer``, a value in ``params`` that :data:`TORCH_EXCEPTIONS`
    says torch cannot follow.

    Examples
    --------
    >>> import skmir
    >>> from skmir.nn.representations.common import check_torch_exceptions
    >>> check_torch_exceptions(skmir.STFT(), {"pad_mode": "symmetric"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: STFT: pad_mode='symmetric' is not available with backend='torch' ...
    """
    owner = type(transformer).__name__
    for name, value in params.items():
        if name in TORCH_EXCEPTIONS:
            allowed, instead = TORCH_EXCEPTIONS[name]
            if not allowed(value):
                raise ValueError(
                    f"{owner}: {name}={value!r} is not available with backend='torch' "
                    f"(the torch {owner} of skmir.nn.representations); {instead}, or use "
                    "backend='librosa'.")


def params_repr(module):
    """``name=value, ...`` of the parameters a module took (its ``extra_repr``).

    Examples
    --------
    >>> import skmir
    >>> from skmir.nn.representations import LogCompression
    >>> from skmir.nn.representations.common import params_repr
    >>> params_repr(LogCompression(skmir.LogCompression()))
    "amin=1e-10, eps=1e-06, method='log', power=2.0, ref=1.0, top_db=80.0"
    """
    return ", ".join(f"{n}={v!r}" for n, v in module.transformer_params.items())


def check_waveform_batch(owner, x, min_samples):
    """Refuse what is not a ``(batch, [channels,] n_samples)`` tensor long enough.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.common import check_waveform_batch
    >>> check_waveform_batch("STFT", torch.zeros(2, 100), 256)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: STFT: clips have 100 samples, fewer than the 256 this transform needs ...
    """
    if not torch.is_tensor(x):
        raise ValueError(f"{owner}: expected a torch tensor of waveforms, got {type(x).__name__}.")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{owner}: expected waveforms of shape (batch, n_samples) or (batch, n_channels, "
            f"n_samples), got a tensor of shape {tuple(x.shape)}."
        )
    if x.shape[-1] < min_samples:
        raise ValueError(
            f"{owner}: clips have {x.shape[-1]} samples, fewer than the {min_samples} "
            "this transform needs (n_fft, or the padding of pad_mode='reflect')."
        )


def as_float32(x):
    """``x`` as float32, without a copy when it is float32 already.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.common import as_float32
    >>> as_float32(torch.zeros(2, dtype=torch.float64)).dtype
    torch.float32
    """
    return x if x.dtype == torch.float32 else x.float()


def no_autocast(x):
    """A context in which ``x``'s device computes in the tensors' own dtype: the
    representations stay float32 inside a network trained with mixed precision.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.common import no_autocast
    >>> x = torch.ones(2, 2)
    >>> with torch.autocast("cpu", dtype=torch.bfloat16), no_autocast(x):
    ...     (x @ x).dtype
    torch.float32
    """
    return torch.autocast(x.device.type, enabled=False)


def magnitude(D, power):
    """``|D| ** power`` of a complex tensor.

    Without gradients, ``sqrt(re**2 + im**2)`` in place (torch's complex ``abs``, which
    guards against overflow that float32 audio never reaches, is about 5 times
    slower on the CPU); with gradients, ``abs``, whose gradient at 0 is 0 rather than
    NaN.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import magnitude
    >>> magnitude(torch.tensor([3 + 4j]), 1.0), magnitude(torch.tensor([3 + 4j]), 2.0)
    (tensor([5.]), tensor([25.]))
    """
    if power == 2:
        return D.real.square() + D.imag.square()
    if D.requires_grad and torch.is_grad_enabled():
        mag = D.abs()
        return mag if power == 1 else mag**power
    mag = D.real.square().addcmul_(D.imag, D.imag).sqrt_()
    return mag if power == 1 else mag.pow_(power)


__all__ = ["EXECUTION_PARAMETERS", "TORCH_EXCEPTIONS", "TORCH_PAD", "as_float32",
           "check_torch_exceptions", "check_waveform_batch", "magnitude", "no_autocast",
           "params_repr"]
