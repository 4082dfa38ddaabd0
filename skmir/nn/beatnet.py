"""BeatNet's network (Heydari, Cwitkowitz and Duan, 2021) as a torch module.

:class:`BeatNet` rebuilds ``BDA`` ("beat downbeat activation", ``BeatNet/model.py`` of
BeatNet 1.1.3, CC BY 4.0, Mojtaba Heydari; see ``skmir/pretrained/LICENSE-beatnet``)
with the same layers under the same names (``conv1``, ``linear0``, ``lstm``,
``linear``), so BeatNet's state dicts load 1:1. Per frame of the 272-value
:class:`skmir.LogFilteredSpectrogram` (136 log-filtered bands and their positive
difference), a convolution along the frequency axis (2 kernels of 10, ReLU, max
pooling by 2) and a dense layer give 150 values; a causal (unidirectional) two-layer
LSTM of 150 cells runs over the frames, and a dense layer gives three outputs per
frame, turned into probabilities by a softmax over them: beat, downbeat, no beat
(``BeatNet.activation_extractor_online``: ``final_pred``, a softmax over the output
axis, of which BeatNet keeps the first two, beat and downbeat).

The original keeps the LSTM state of its last call in the module (a second clip run
by the same ``BeatNet`` object starts where the first ended); this module is
stateless: each call starts from ``state`` (zeros when None) and returns the final
state on request, which runs a long clip block by block exactly as in one pass.

References
----------
Heydari, M., Cwitkowitz, F. and Duan, Z. (2021). BeatNet: CRNN and particle filtering
for online joint beat downbeat and meter tracking. ISMIR 2021. arXiv:2108.03576.
https://github.com/mjhydri/BeatNet
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BeatNet"]

#: Values per frame of BeatNet's input, its LSTM's cells and layers, its outputs.
N_FEATURES, N_CELLS, N_LAYERS, N_OUTPUTS = 272, 150, 2, 3
# BDA's convolution: 2 kernels of 10 along the features, then max pooling by 2
CONV_CHANNELS, KERNEL = 2, 10


class BeatNet(nn.Module):
    """BeatNet's CRNN (``BDA`` of BeatNet 1.1.3), layer for layer, stateless.

    Parameters
    ----------
    dim_in : int, default=272
        Values per input frame.
    num_cells : int, default=150
        LSTM cells per layer (and units of ``linear0``).
    num_layers : int, default=2
        LSTM layers.

    Attributes
    ----------
    layers : tuple of str
        What :meth:`forward` returns by name, each ``(batch, frames, channels)``:
        ``linear0`` (150, the LSTM's input), ``lstm`` (150, its last layer's output),
        ``logits`` (3) and ``probabilities`` (3, softmax of the logits).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.beatnet import BeatNet
    >>> net = BeatNet().eval()
    >>> with torch.no_grad():
    ...     p = net(torch.randn(2, 50, 272))
    ...     first, state = net(torch.randn(2, 50, 272), return_state=True)
    >>> p.shape, bool(torch.allclose(p.sum(-1), torch.ones(2, 50)))
    (torch.Size([2, 50, 3]), True)
    >>> [tuple(s.shape) for s in state]
    [(2, 2, 150), (2, 2, 150)]
    """

    def __init__(self, dim_in=N_FEATURES, num_cells=N_CELLS, num_layers=N_LAYERS):
        super().__init__()
        self.dim_in = dim_in
        self.num_cells = num_cells
        self.num_layers = num_layers
        self.conv1 = nn.Conv1d(1, CONV_CHANNELS, KERNEL)
        # BDA: "divide to 2 is for max pooling filter"
        self.linear0 = nn.Linear(CONV_CHANNELS * ((dim_in - KERNEL + 1) // 2), num_cells)
        self.lstm = nn.LSTM(input_size=num_cells, hidden_size=num_cells,
                            num_layers=num_layers, batch_first=True, bidirectional=False)
        self.linear = nn.Linear(num_cells, N_OUTPUTS)
        self.layers = ("linear0", "lstm", "logits", "probabilities")

    def zero_state(self, batch, device=None):
        """The LSTM state a clip starts from: ``(h, c)``, zeros of ``(layers, batch,
        cells)``, as a fresh ``BDA``."""
        shape = (self.num_layers, batch, self.num_cells)
        device = self.linear.weight.device if device is None else device
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)

    def frame_features(self, x):
        """``linear0`` of each frame, ``(batch, frames, 150)``: frame-local."""
        batch, frames = x.shape[:2]
        h = x.reshape(batch * frames, 1, self.dim_in)
        h = F.max_pool1d(F.relu(self.conv1(h)), 2)
        return self.linear0(h.reshape(batch * frames, -1)).reshape(batch, frames, -1)

    def forward(self, x, layers=None, *, state=None, return_state=False):
        """The beat, downbeat and no-beat probabilities of every frame, or named layers.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, frames, 272)
            :class:`skmir.LogFilteredSpectrogram` frames (BeatNet's), frames in order.
        layers : sequence of str or None, default=None
            None: the probabilities only; otherwise names of :attr:`layers`.
        state : (torch.Tensor, torch.Tensor) or None, default=None
            The LSTM's ``(h, c)`` to start from, each ``(2, batch, 150)``; None: zeros.
        return_state : bool, default=False
            Also return the LSTM's final state (to continue with the next frames).

        Returns
        -------
        probabilities : torch.Tensor of shape (batch, frames, 3)
            Softmax over beat, downbeat, no beat (when ``layers`` is None).
        outputs : dict of str to torch.Tensor
            The named layers (when ``layers`` is given), in :attr:`layers` order.
        state : (torch.Tensor, torch.Tensor)
            With ``return_state``: the final ``(h, c)``.
        """
        if x.ndim != 3 or x.shape[2] != self.dim_in:
            raise ValueError(f"BeatNet: x of shape {tuple(x.shape)}: expected (batch, "
                             f"frames, {self.dim_in}) frames of LogFilteredSpectrogram.")
        wanted = None if layers is None else list(layers)
        if wanted is not None:
            unknown = [name for name in wanted if name not in self.layers]
            if unknown:
                raise ValueError(f"BeatNet: layers = {unknown}: not layers of this "
                                 f"network; choose among {list(self.layers)}.")
        outputs = {"linear0": self.frame_features(x)}
        if state is None:
            state = self.zero_state(len(x), x.device)
        if wanted == ["linear0"] and not return_state:
            return outputs
        outputs["lstm"], state = self.lstm(outputs["linear0"], state)
        outputs["logits"] = self.linear(outputs["lstm"])
        # BeatNet's final_pred: a softmax over the three outputs of each frame
        outputs["probabilities"] = torch.softmax(outputs["logits"], dim=-1)
        result = outputs["probabilities"] if wanted is None else {
            name: outputs[name] for name in self.layers if name in wanted}
        return (result, state) if return_state else result
