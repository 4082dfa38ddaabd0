"""Saving and loading fitted neural estimators without pickle.

A saved estimator is one file, written atomically, that holds plain Python values
and tensors only (its parameters, its fitted attributes, its history and the
network's weights), so loading reads it with ``torch.load(..., weights_only=True)``:
no code in the file runs. The fitted attributes to save are named by the estimator's
target codec and time scale (:meth:`PersistenceMixin._fitted_names`).
"""

import json
import os

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from skmir._files import atomic_write
from skmir._validation import NamedRefusals, refusal

_FORMAT = "skmir-neural-estimator/1"


def _plain(value):
    """Whether a parameter value survives ``torch.load(weights_only=True)``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False



class PersistenceMixin(NamedRefusals):
    """:meth:`save` and :meth:`load` for :class:`skmir.neural.base.BaseNeuralEstimator`."""

    def save(self, path):
        """Save the fitted estimator to one file, atomically.

        The file holds the parameters, the fitted attributes and the network's
        weights as plain Python values and tensors, so :meth:`load` reads it with
        ``torch.load(..., weights_only=True)`` (no arbitrary code runs on loading).
        ``callbacks`` and an ``optimizer`` given as a class are not saved (they
        are not plain values); the loaded estimator uses the defaults instead.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        self
        """
        check_is_fitted(self, "net_")
        params = {k: v for k, v in self.get_params(deep=False).items() if _plain(v)}
        fitted = dict(self._fitted_state())
        fitted["history"] = json.dumps(list(self.history_), default=float)
        state = {
            "format": _FORMAT,
            "estimator": type(self).__name__,
            "params": params,
            "fitted": fitted,
            "weights": {k: v.detach().cpu() for k, v in self.net_.module_.state_dict().items()},
        }
        with atomic_write(path) as tmp:
            torch.save(state, tmp)
        return self

    @classmethod
    def load(cls, path, device=None):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
        device : str or None, default=None
            Override the saved ``device`` (e.g. ``"cpu"`` for a model trained on GPU).

        Returns
        -------
        estimator
            Fitted, predicting exactly as the saved one.
        """
        from skorch.history import History

        try:
            state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise FileNotFoundError(refusal(None, "path", path, "no such file.")) from exc
        except Exception as exc:  # not a torch file: torch's own errors say little
            raise ValueError(refusal(None, "path", path, f"not a file written by "
                                     f"{cls.__name__}.save ({type(exc).__name__}: {exc})."
                                     )) from exc
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(refusal(None, "path", path,
                                     f"not a file written by {cls.__name__}.save."))
        if state["estimator"] != cls.__name__:
            raise ValueError(refusal(
                None, "path", path, f"holds a {state['estimator']}, not a "
                f"{cls.__name__}; load it with {state['estimator']}.load."))
        params = dict(state["params"])
        if device is not None:
            params["device"] = device
        est = cls(**params)
        fitted = dict(state["fitted"])
        history = History(json.loads(fitted.pop("history")))
        est._restore_state(fitted)
        mode = est._initialize_net(seed=0)
        try:
            est.net_.module_.load_state_dict(state["weights"])
        except RuntimeError as exc:  # e.g. a file from a version whose layers differ
            raise ValueError(refusal(
                None, "path", path, f"its weights do not fit the network that "
                f"{cls.__name__}(**its parameters) builds in this version of skmir "
                f"(torch: {' '.join(str(exc).split())[:300]}); refit and save it again."
            )) from exc
        mode.finish(est.net_)
        est.net_.history = history
        est.history_ = history
        return est

    def _fitted_names(self):
        arrays = self._codec.fitted_arrays
        # store_frontend_: the front end of the FeatureStore fitted on (None: arrays)
        values = ("n_features_in_", "n_outputs_", "store_frontend_", *self._codec.fitted_values)
        if self._time_scale.frame_targets:
            values += ("single_frame_",)
        return arrays, values

    def _fitted_state(self):
        arrays, values = self._fitted_names()
        state = {"input_shape_": list(self.input_shape_)}
        for name in arrays:
            a = getattr(self, name)
            # the dtype key of classes_ is "classes_dtype", as in files of skmir 0.1
            state[name] = a.tolist()
            state[name + "dtype"] = a.dtype.str if a.dtype.kind != "O" else "O"
        for name in values:
            state[name] = getattr(self, name)
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(f) for f in self.feature_names_in_]
        return state

    def _restore_state(self, state):
        arrays, values = self._fitted_names()
        self.input_shape_ = tuple(state["input_shape_"])
        for name in arrays:
            setattr(self, name, np.asarray(state[name], dtype=state.get(name + "dtype")))
        for name in values:
            if name in state:  # files of skmir 0.1 lack the taggers' y_ndim_
                setattr(self, name, state[name])
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)
        self.architecture_ = self._resolved("architecture")
