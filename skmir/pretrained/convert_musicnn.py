"""Convert the four musicnn 0.1.0 networks to skmir's safetensors, without TensorFlow.

Run once by a developer, never at run time or in CI::

    pip download --no-deps musicnn==0.1.0 -d /tmp/musicnn
    python -m skmir.pretrained.convert_musicnn /tmp/musicnn/musicnn-0.1.0-py3-none-any.whl

For each of MTT_musicnn, MSD_musicnn, MTT_vgg and MSD_vgg it reads the TensorFlow 1
checkpoint inside the wheel by hand (the ``.index`` SSTable of ``BundleEntryProto``
records, the raw little-endian ``.data`` shard, the ``MetaGraphDef`` of ``.meta``),
checks every block and every kept tensor against its masked CRC-32C, and reads the
layer structure (kernels, paddings, poolings, batch-norm epsilons, dropout rates,
which tensor feeds which op) from the graph's inference path, not from musicnn's
``models.py`` (which is wrong for MSD_vgg). The weights become a
:class:`skmir.nn.musicnn.Musicnn` or :class:`skmir.nn.musicnn.VGG` state dict,
written with its model card next to this file:

``musicnn-mtt``, ``musicnn-msd``, ``vgg-mtt``, ``vgg-msd``
    ``<name>.safetensors`` (float32), ``<name>.json`` (the card loaded by
    :func:`skmir.pretrained.musicnn.load_musicnn`) and ``<name>.md``; and
    ``LICENSE-musicnn``, musicnn's ISC licence as the wheel ships it.

Adam's slots (``*/Adam``, ``*/Adam_1``, ``beta1_power``, ``beta2_power``) are the
optimiser's state, not weights, and are skipped; any other variable the inference
path does not use is an error, so nothing is dropped silently.
"""

import ast
import hashlib
import io
import json
import os
import re
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent

# name -> (folder in the wheel, architecture, dataset, tag list in configuration.py)
NETWORKS = {
    "musicnn-mtt": ("MTT_musicnn", "musicnn", "MagnaTagATune", "MTT_LABELS"),
    "musicnn-msd": ("MSD_musicnn", "musicnn", "Million Song Dataset", "MSD_LABELS"),
    "vgg-mtt": ("MTT_vgg", "vgg", "MagnaTagATune", "MTT_LABELS"),
    "vgg-msd": ("MSD_vgg", "vgg", "Million Song Dataset", "MSD_LABELS"),
}
CHECKPOINT_FILES = (".index", ".data-00000-of-00001", ".meta")
OTHER_FILES = ("config.json", "experiment.result", "checkpoint")

# musicnn's extractor.py and configuration.py; librosa's defaults of 2019 (0.6/0.7)
# for the rest: reflect padding, Slaney mel scale with Slaney (area) norm, 0 to sr/2
FRONTEND = {
    "sr": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "win_length": 512,
    "window": "hann",
    "center": True,
    "pad_mode": "reflect",
    "pad_mode_note": ("musicnn ran on librosa < 0.10, which padded by reflection; zero "
                      "padding (pad_mode='constant', librosa >= 0.10) changes the tags of "
                      "a clip's first patch by up to 0.03 (8 clips of make_music)"),
    "power": 2.0,
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 8000.0,
    "htk": False,
    "norm": "slaney",
    "quantisation": "float16",
    "log_compression": "log10(10000 * S + 1), in float32 on the float16 mel power",
    "layout": "time x mel",
    "patch_frames": 187,
    "patch_hop": 187,
    "remainder": "dropped (musicnn's batch_data)",
    "pad_short": "repeat-pad",
}

DESCRIPTIONS = {
    "musicnn": ("musicnn's {folder}: musically motivated timbral and temporal filters, a "
                "residual mid end and a max- and mean-pooled dense back end, trained by Pons "
                "and Serra (2019) to tag {dataset} clips with 50 tags. Converted to PyTorch; "
                "parity with the TensorFlow graph is tested."),
    "vgg": ("musicnn's {folder}: the VGG-like baseline (five blocks of 3x3 convolution, "
            "batch norm and max pooling), trained by Pons and Serra (2019) to tag {dataset} "
            "clips with 50 tags. Converted to PyTorch; parity with the TensorFlow graph is "
            "tested."),
}

TRAINING_AUDIO = (
    "MTT audio (Magnatune clips of the MagnaTagATune dataset, Law et al. 2009) is CC "
    "BY-NC-SA 3.0 Unported (tagatune.org); MSD previews are copyrighted (7digital) and "
    "not openly licensed: use of the weights may be limited by them."
)

_DT_FLOAT, _DT_INT32, _DT_BOOL, _DT_INT64 = 1, 3, 10, 9
_NP_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 10: "?", 19: "<f2"}


class ConversionError(ValueError):
    """The checkpoint or its graph is not what the converter can translate."""


# --- CRC-32C (Castagnoli), as LevelDB and TensorFlow mask it -----------------------

def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data, crc=0):
    """CRC-32C of ``data`` (pure Python: a one-off tool, a few MB).

    Examples
    --------
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    table = _CRC_TABLE
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """LevelDB's masked CRC-32C, stored in SSTable blocks and ``BundleEntryProto``."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# --- protobuf wire format -----------------------------------------------------------

def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ConversionError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ConversionError("varint longer than 10 bytes")


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf):
    """Decode one message: {field number: [(wire type, value), ...]} in order."""
    out = {}
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, pos = bytes(buf[pos:pos + n]), pos + n
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = bytes(buf[pos:pos + n]), pos + n
        else:
            raise ConversionError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ConversionError("truncated protobuf message")
        out.setdefault(field, []).append((wire, value))
    return out


def _one(fields, number, default=None):
    values = fields.get(number)
    return values[-1][1] if values else default


def _ints(fields, number):
    """A repeated integer field, packed or not, as signed ints."""
    out = []
    for wire, value in fields.get(number, ()):
        if wire == 2:
            pos = 0
            while pos < len(value):
                v, pos = _varint(value, pos)
                out.append(_signed(v))
        else:
            out.append(_signed(value))
    return out


def _floats(fields, number):
    out = []
    for wire, value in fields.get(number, ()):
        out.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2
                   else struct.unpack("<f", value))
    return out


def _shape(buf):
    # TensorShapeProto: dim = 2 (size = 1, name = 2), unknown_rank = 3
    fields = _fields(buf)
    if _one(fields, 3):
        return None
    return [_signed(_one(_fields(d), 1, 0)) for _, d in fields.get(2, ())]


def _tensor(buf):
    # TensorProto: dtype 1, tensor_shape 2, tensor_content 4, float_val 5, int_val 7,
    # int64_val 10, bool_val 11
    fields = _fields(buf)
    dtype = _one(fields, 1, 0)
    shape = _shape(_one(fields, 2, b""))
    if dtype not in _NP_DTYPES or shape is None:
        raise ConversionError(f"unsupported constant (dtype {dtype}, shape {shape})")
    content = _one(fields, 4)
    if content is not None:
        return np.frombuffer(content, _NP_DTYPES[dtype]).reshape(shape)
    values = {_DT_FLOAT: _floats(fields, 5), _DT_INT32: _ints(fields, 7),
              _DT_INT64: _ints(fields, 10), _DT_BOOL: _ints(fields, 11)}.get(dtype)
    if values is None:
        raise ConversionError(f"unsupported constant dtype {dtype}")
    size = int(np.prod(shape))
    if len(values) < size:
        # TensorFlow repeats the last value to fill the shape
        values = values + [values[-1] if values else 0] * (size - len(values))
    return np.asarray(values, _NP_DTYPES[dtype]).reshape(shape)


def _attr(buf):
    # AttrValue: list 1, s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8
    fields = _fields(buf)
    if 2 in fields:
        return _one(fields, 2)
    if 3 in fields:
        return _signed(_one(fields, 3))
    if 4 in fields:
        return struct.unpack("<f", _one(fields, 4))[0]
    if 5 in fields:
        return bool(_one(fields, 5))
    if 6 in fields:
        return ("type", _one(fields, 6))
    if 7 in fields:
        return _shape(_one(fields, 7))
    if 8 in fields:
        return _tensor(_one(fields, 8))
    if 1 in fields:
        lst = _fields(_one(fields, 1))
        return {"s": [v for _, v in lst.get(2, ())], "i": _ints(lst, 3),
                "f": _floats(lst, 4), "shape": [_shape(v) for _, v in lst.get(7, ())]}
    return None


# --- TensorFlow checkpoint V2 (tensor bundle) ---------------------------------------

_TABLE_MAGIC = 0xDB4775248B80FB57


def _block(buf, offset, size, what):
    contents = buf[offset:offset + size]
    trailer = buf[offset + size:offset + size + 5]
    if len(contents) != size or len(trailer) != 5:
        raise ConversionError(f"{what}: block at {offset} runs past the end of the file")
    if trailer[0] != 0:
        raise ConversionError(f"{what}: compressed block (type {trailer[0]}) not supported")
    if struct.unpack("<I", trailer[1:])[0] != masked_crc32c(contents + trailer[:1]):
        raise ConversionError(f"{what}: block at {offset} fails its CRC-32C check")
    return contents


def _block_entries(block, what):
    n_restarts = struct.unpack("<I", block[-4:])[0]
    limit = len(block) - 4 - 4 * n_restarts
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        n_value, pos = _varint(block, pos)
        if shared > len(key):
            raise ConversionError(f"{what}: corrupt key prefix")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + n_value]
        pos += n_value


def read_index(buf, what=".index"):
    """The entries of a checkpoint ``.index`` (a LevelDB-format SSTable).

    Returns
    -------
    header : dict
        ``BundleHeaderProto``: num_shards, endianness (0 is little-endian).
    entries : dict of str to dict
        Per tensor, ``BundleEntryProto``: dtype, shape, shard_id, offset, size, crc32c.
    """
    if len(buf) < 48 or struct.unpack("<Q", buf[-8:])[0] != _TABLE_MAGIC:
        raise ConversionError(f"{what} is not an SSTable (bad magic number)")
    footer = buf[-48:]
    _, pos = _varint(footer, 0)
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, pos = _varint(footer, pos)
    raw = {}
    index = _block(buf, index_offset, index_size, what)
    for _, handle in _block_entries(index, what):
        offset, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        for key, value in _block_entries(_block(buf, offset, size, what), what):
            raw[key.decode("utf-8")] = value
    if "" not in raw:
        raise ConversionError(f"{what} has no BundleHeaderProto (empty key)")
    head = _fields(raw.pop(""))
    header = {"num_shards": _one(head, 1, 0), "endianness": _one(head, 2, 0)}
    entries = {}
    for name, value in raw.items():
        f = _fields(value)
        if 7 in f:
            raise ConversionError(f"{what}: {name} is a partitioned (sliced) variable")
        crc = _one(f, 6)
        entries[name] = {
            "dtype": _one(f, 1, 0), "shape": _shape(_one(f, 2, b"")) or [],
            "shard_id": _one(f, 3, 0), "offset": _one(f, 4, 0), "size": _one(f, 5, 0),
            "crc32c": None if crc is None else struct.unpack("<I", crc)[0]}
    return header, entries


def read_tensor(entry, data, name):
    """One float32 tensor of the ``.data`` shard, checked against its masked CRC-32C."""
    if entry["dtype"] != _DT_FLOAT:
        raise ConversionError(f"{name}: dtype {entry['dtype']} is not float32")
    raw = data[entry["offset"]:entry["offset"] + entry["size"]]
    n = int(np.prod(entry["shape"], dtype=np.int64))
    if len(raw) != entry["size"] or entry["size"] != 4 * n:
        raise ConversionError(f"{name}: {entry['size']} bytes at {entry['offset']} do not "
                              f"hold a float32 tensor of shape {entry['shape']}")
    if entry["crc32c"] is None or masked_crc32c(raw) != entry["crc32c"]:
        raise ConversionError(f"{name}: the tensor fails its CRC-32C check")
    return np.frombuffer(raw, "<f4").reshape(entry["shape"]).astype(np.float32)


# --- the graph ----------------------------------------------------------------------

def _ref(text):
    """'name:1' -> ('name', 1); control inputs '^name' -> ('name', -1)."""
    if text.startswith("^"):
        return text[1:], -1
    name, _, index = text.partition(":")
    return name, int(index) if index else 0


class Graph:
    """The ``GraphDef`` of a ``.meta`` file, evaluated with ``is_training`` False.

    :meth:`resolve` follows a tensor to the op that computes it in inference: through
    Identity, through Switch (which forwards its data), and through Merge to the one
    input that is alive when every boolean placeholder is False (TensorFlow's dead
    branches of ``tf.cond``).
    """

    def __init__(self, meta):
        fields = _fields(meta)
        info = _fields(_one(fields, 1, b""))
        self.tf_version = (_one(info, 5) or b"").decode()
        self.nodes = {}
        for _, raw in _fields(_one(fields, 2, b"")).get(1, ()):
            f = _fields(raw)
            name = _one(f, 1).decode()
            attrs = {}
            for _, entry in f.get(5, ()):
                e = _fields(entry)
                attrs[_one(e, 1).decode()] = _one(e, 2, b"")
            self.nodes[name] = {"name": name, "op": _one(f, 2).decode(),
                                "inputs": [v.decode() for _, v in f.get(3, ())],
                                "attrs": attrs}
        self._decoded = {}
        self._dead = self._deadness()

    def attr(self, node, key, default=None):
        if key not in node["attrs"]:
            return default
        cache = (node["name"], key)
        if cache not in self._decoded:
            self._decoded[cache] = _attr(node["attrs"][key])
        return self._decoded[cache]

    def node(self, name):
        if name not in self.nodes:
            raise ConversionError(f"the graph has no node {name!r}")
        return self.nodes[name]

    def _predicate(self, text):
        node = self.node(_ref(text)[0])
        while node["op"] == "Identity":
            node = self.node(_ref(node["inputs"][0])[0])
        if node["op"] == "Placeholder" and self.attr(node, "dtype") == ("type", _DT_BOOL):
            return False
        raise ConversionError(f"the predicate of a cond is {node['name']!r} ({node['op']}), "
                              "not the is_training placeholder")

    def _deadness(self):
        # TensorFlow's executor semantics: a Switch forwards its data to output 1 if the
        # predicate is true, else to output 0, and the other output is dead; a Merge is
        # alive if any input is; any other op is dead if any input, control included, is
        order, state = [], {}
        for root in self.nodes:
            stack = [(root, False)]
            while stack:
                name, done = stack.pop()
                if done:
                    state[name] = 2
                    order.append(name)
                    continue
                if state.get(name) == 2:
                    continue
                if state.get(name) == 1:
                    raise ConversionError(f"the graph has a cycle through {name!r}")
                state[name] = 1
                stack.append((name, True))
                for text in self.node(name)["inputs"]:
                    parent = _ref(text)[0]
                    if state.get(parent) != 2:
                        stack.append((parent, False))
        dead = {}
        for name in order:
            node = self.nodes[name]
            refs = [_ref(i) for i in node["inputs"]]
            data = [r for r in refs if r[1] >= 0]

            def is_dead(ref):
                return dead.get(ref, dead.get((ref[0], 0), False)) if ref[1] >= 0 \
                    else dead.get((ref[0], -1), False)

            if node["op"] == "Switch":
                data_dead = is_dead(data[0])
                taken = int(self._predicate(node["inputs"][1]))
                dead[(name, 0)] = data_dead or taken != 0
                dead[(name, 1)] = data_dead or taken != 1
                dead[(name, -1)] = data_dead
                continue
            if node["op"] == "Merge":
                flag = all(is_dead(r) for r in data)
            else:
                flag = any(is_dead(r) for r in data)
            flag = flag or any(is_dead(r) for r in refs if r[1] < 0)
            dead[(name, 0)] = dead[(name, -1)] = flag
        return dead

    def is_dead(self, name, index):
        """Whether output ``index`` of node ``name`` is dead in inference."""
        key = (name, index)
        return self._dead[key] if key in self._dead else self._dead[(name, 0)]

    def resolve(self, text):
        """(node, output index) that computes tensor ``text`` in inference."""
        name, index = _ref(text)
        while True:
            node = self.node(name)
            if node["op"] in ("Identity", "Switch"):
                name, index = _ref(node["inputs"][0])
            elif node["op"] == "Merge":
                alive = [_ref(i) for i in node["inputs"]
                         if not i.startswith("^") and not self.is_dead(*_ref(i))]
                if len(alive) != 1:
                    raise ConversionError(f"{name}: {len(alive)} live inputs in inference")
                name, index = alive[0]
            else:
                return node, index

    def op(self, text, *ops):
        node, index = self.resolve(text)
        if node["op"] not in ops:
            raise ConversionError(f"expected {' or '.join(ops)} at {text!r}, found "
                                  f"{node['name']!r} ({node['op']})")
        return node

    def const(self, text):
        return np.asarray(self.attr(self.op(text, "Const"), "value"))

    def variable(self, text):
        return self.op(text, "VariableV2", "VarHandleOp")["name"]

    def shape(self, text):
        node, index = self.resolve(text)
        shapes = self.attr(node, "_output_shapes")
        if not shapes or index >= len(shapes["shape"]):
            raise ConversionError(f"{node['name']} has no recorded output shape")
        return shapes["shape"][index]

    def same(self, a, b):
        na, ia = self.resolve(a)
        nb, ib = self.resolve(b)
        return na["name"] == nb["name"] and ia == ib

    def dropout(self, text):
        """(input, rate) of the dropout that computes ``text``; (text, 0.0) if none.

        ``tf.layers.dropout`` is a cond: in inference the input passes through, in
        training it is ``x / keep_prob * floor(keep_prob + uniform)``.
        """
        name, _ = _ref(text)
        while self.node(name)["op"] in ("Identity", "Switch"):
            name, _ = _ref(self.node(name)["inputs"][0])
        merge = self.node(name)
        if merge["op"] != "Merge":
            return text, 0.0
        data = [i for i in merge["inputs"] if not i.startswith("^")]
        live = [i for i in data if not self.is_dead(*_ref(i))]
        dead = [self.node(_ref(i)[0]) for i in data if self.is_dead(*_ref(i))]
        if len(live) != 1 or len(dead) != 1 or dead[0]["op"] != "Mul":
            return text, 0.0
        div = self.node(_ref(dead[0]["inputs"][0])[0])
        if div["op"] != "RealDiv" or not self.same(div["inputs"][0], live[0]):
            return text, 0.0
        keep = float(np.asarray(self.attr(self.node(_ref(div["inputs"][1])[0]), "value")))
        return live[0], round(1.0 - keep, 6)


def _pairs(values):
    return [int(v) for v in values]


def _batchnorm(g, text):
    """(input, {torch key: TF variable}, epsilon) of an inference batch norm."""
    node = g.op(text, "FusedBatchNorm", "FusedBatchNormV3", "Add")
    if node["op"] != "Add":
        if g.attr(node, "is_training", True):
            raise ConversionError(f"{node['name']} is the training batch norm")
        if g.attr(node, "data_format", b"NHWC") != b"NHWC":
            raise ConversionError(f"{node['name']}: data_format is not NHWC")
        x, scale, offset, mean, var = node["inputs"][:5]
        return x, {"weight": g.variable(scale), "bias": g.variable(offset),
                   "running_mean": g.variable(mean), "running_var": g.variable(var)}, \
            g.attr(node, "epsilon")
    # tf.layers.batch_normalization without fusing (2-D inputs):
    # x * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps))
    mul_1 = g.op(node["inputs"][0], "Mul")
    sub = g.op(node["inputs"][1], "Sub")
    x, scale_ref = mul_1["inputs"]
    scale = g.op(scale_ref, "Mul")
    rsqrt = g.op(scale["inputs"][0], "Rsqrt")
    add = g.op(rsqrt["inputs"][0], "Add")
    mul_2 = g.op(sub["inputs"][1], "Mul")
    if not g.same(mul_2["inputs"][1], scale_ref):
        raise ConversionError(f"{node['name']}: not a batch norm")
    eps = g.const(add["inputs"][1])
    return x, {"weight": g.variable(scale["inputs"][1]), "bias": g.variable(sub["inputs"][0]),
               "running_mean": g.variable(mul_2["inputs"][0]),
               "running_var": g.variable(add["inputs"][0])}, float(eps)


def _conv_unit(g, text):
    """conv -> bias -> ReLU -> batch norm ending at ``text``, with its input padding."""
    x, bn, eps = _batchnorm(g, text)
    relu = g.op(x, "Relu")
    bias_add = g.op(relu["inputs"][0], "BiasAdd")
    conv = g.op(bias_add["inputs"][0], "Conv2D")
    if _pairs(g.attr(conv, "strides")["i"]) != [1, 1, 1, 1]:
        raise ConversionError(f"{conv['name']}: strides are not 1")
    dilations = g.attr(conv, "dilations")
    if dilations is not None and _pairs(dilations["i"]) != [1, 1, 1, 1]:
        raise ConversionError(f"{conv['name']}: dilated convolution")
    if g.attr(conv, "data_format", b"NHWC") != b"NHWC":
        raise ConversionError(f"{conv['name']}: data_format is not NHWC")
    kernel = g.variable(conv["inputs"][1])
    source = conv["inputs"][0]
    pads = np.zeros((4, 2), int)
    node, _ = g.resolve(source)
    if node["op"] == "Pad":
        pads = g.const(node["inputs"][1]).astype(int)
        source = node["inputs"][0]
    kshape = g.attr(g.node(kernel), "shape")
    padding = g.attr(conv, "padding").decode()
    if padding == "SAME":
        for axis, k in ((1, kshape[0]), (2, kshape[1])):
            pads[axis] += (k - 1) // 2, k // 2
    elif padding != "VALID":
        raise ConversionError(f"{conv['name']}: padding {padding}")
    if pads[0].any() or pads[3].any():
        raise ConversionError(f"{conv['name']}: pads the batch or channel axis")
    return {"kernel": kernel, "bias": g.variable(bias_add["inputs"][1]), "bn": bn, "eps": eps,
            "kshape": kshape, "pads": pads[1:3].tolist(), "input": source,
            "padding": padding, "name": conv["name"]}


def _input_bn(g, text):
    """The batch norm of the input placeholder (batch, frames, mels)."""
    x, bn, eps = _batchnorm(g, text)
    expand = g.op(x, "ExpandDims")
    if int(g.const(expand["inputs"][1])) not in (3, -1):
        raise ConversionError(f"{expand['name']}: does not add a channel axis")
    placeholder = g.op(expand["inputs"][0], "Placeholder")
    shape = g.attr(placeholder, "shape")
    if shape is None or len(shape) != 3:
        raise ConversionError(f"the input {placeholder['name']} has shape {shape}")
    return placeholder, shape[1], shape[2], bn, eps


def _dense(g, text):
    bias_add = g.op(text, "BiasAdd")
    matmul = g.op(bias_add["inputs"][0], "MatMul")
    if g.attr(matmul, "transpose_a") or g.attr(matmul, "transpose_b"):
        raise ConversionError(f"{matmul['name']}: transposed MatMul")
    return matmul["inputs"][0], g.variable(matmul["inputs"][1]), \
        g.variable(bias_add["inputs"][1])


def _output(g):
    sigmoids = [n for n in g.nodes.values() if n["op"] == "Sigmoid"]
    if len(sigmoids) != 1:
        raise ConversionError(f"expected one Sigmoid output, found {len(sigmoids)}")
    return sigmoids[0]


def _one_eps(eps_values):
    values = {float(np.float32(e)) for e in eps_values}
    if len(values) != 1:
        raise ConversionError(f"batch norms use different epsilons: {sorted(values)}")
    return float(str(np.float32(values.pop())))


def _one_rate(what, rates):
    if not rates:
        return 0.0
    if len(set(rates)) != 1:
        raise ConversionError(f"{what}: different dropout rates {rates}")
    return rates[0]


def musicnn_structure(g):
    """Read a musicnn graph: the :class:`Musicnn` kwargs and {torch key: (TF name, how)}.

    ``how`` is how the TF array becomes the torch one: "copy", "dense" (transpose),
    "conv2d" (HWIO -> OIHW) or "conv1d" (a conv spanning all channels -> (O, I, k)).
    """
    mapping, eps = {}, []
    sigmoid = _output(g)

    def add_bn(prefix, bn, e):
        eps.append(e)
        mapping.update({f"{prefix}.{k}": (v, "copy") for k, v in bn.items()})

    x, w, b = _dense(g, sigmoid["inputs"][0])
    mapping.update({"output.weight": (w, "dense"), "output.bias": (b, "copy")})
    x, rate_out = g.dropout(x)
    x, bn, e = _batchnorm(g, x)
    add_bn("dense_bn", bn, e)
    x, w, b = _dense(g, g.op(x, "Relu")["inputs"][0])
    mapping.update({"dense.weight": (w, "dense"), "dense.bias": (b, "copy")})
    backend_units = g.attr(g.node(w), "shape")[1]
    x, rate_pool = g.dropout(x)
    x, bn, e = _batchnorm(g, x)
    add_bn("pool_bn", bn, e)
    reshape = g.op(x, "Reshape")
    concat = g.op(reshape["inputs"][0], "ConcatV2")
    if len(concat["inputs"]) != 3 or g.shape(reshape["inputs"][0])[-1] != 2 or \
            int(g.const(concat["inputs"][2])) not in (2, -1):
        raise ConversionError(f"{concat['name']}: the pooled maps are not interleaved "
                              "(channels, [max, mean]) as Musicnn flattens them")
    max_op = g.op(concat["inputs"][0], "Max")
    mean_op = g.op(g.op(concat["inputs"][1], "Squeeze")["inputs"][0], "Mean")
    for op in (max_op, mean_op):
        if _pairs(g.const(op["inputs"][1]).ravel()) != [1]:
            raise ConversionError(f"{op['name']}: does not pool over time (axis 1)")
    if not g.same(max_op["inputs"][0], mean_op["inputs"][0]):
        raise ConversionError("max and mean pool different maps")
    maps = g.op(max_op["inputs"][0], "ConcatV2")
    if int(g.const(maps["inputs"][-1])) != 2:
        raise ConversionError(f"{maps['name']}: does not concatenate channels (axis 2)")
    parts = maps["inputs"][:-1]

    # mid end: parts[0] is the front end, then one map per layer, residual after the first
    front = g.op(parts[0], "ExpandDims")
    midend, previous = [], parts[0]
    for i, part in enumerate(parts[1:]):
        node = g.op(part, "Transpose", "Add")
        if (node["op"] == "Add") != (i > 0):
            raise ConversionError(f"{node['name']}: Musicnn has a residual connection on "
                                  "every mid-end layer but the first")
        if node["op"] == "Add":
            if not g.same(node["inputs"][1], previous):
                raise ConversionError(f"{node['name']}: the residual is not the previous layer")
            node = g.op(node["inputs"][0], "Transpose")
        if _pairs(g.const(node["inputs"][1])) != [0, 1, 3, 2]:
            raise ConversionError(f"{node['name']}: unexpected permutation")
        unit = _conv_unit(g, node["inputs"][0])
        if not g.same(unit["input"], previous if i else parts[0]):
            raise ConversionError(f"{unit['name']}: does not read the previous layer")
        kt, width, one, filters = unit["kshape"]
        if one != 1 or width != g.shape(unit["input"])[2] or unit["pads"][1] != [0, 0] \
                or unit["padding"] != "VALID" or unit["pads"][0] != [(kt - 1) // 2, kt // 2]:
            raise ConversionError(f"{unit['name']}: not a 'same' 1-D convolution over time")
        midend.append((kt, filters))
        mapping[f"midend.{i}.conv.weight"] = (unit["kernel"], "conv1d")
        mapping[f"midend.{i}.conv.bias"] = (unit["bias"], "copy")
        add_bn(f"midend.{i}.bn", unit["bn"], unit["eps"])
        previous = part
    if len(set(midend)) != 1:
        raise ConversionError(f"mid-end layers differ: {midend}")

    # front end: timbral branches (wider than one mel bin), then temporal ones
    if int(g.const(front["inputs"][1])) != 3:
        raise ConversionError(f"{front['name']}: unexpected axis")
    branches = g.op(front["inputs"][0], "ConcatV2")
    if int(g.const(branches["inputs"][-1])) != 2:
        raise ConversionError(f"{branches['name']}: does not concatenate channels")
    timbral, temporal, input_bn = [], [], None
    for part in branches["inputs"][:-1]:
        squeeze = g.op(part, "Squeeze")
        pool = g.op(squeeze["inputs"][0], "MaxPool")
        unit = _conv_unit(g, pool["inputs"][0])
        kt, kf, one, filters = unit["kshape"]
        width = g.shape(pool["inputs"][0])[2]
        if _pairs(g.attr(pool, "ksize")["i"]) != [1, 1, width, 1] or \
                _pairs(g.attr(pool, "strides")["i"]) != [1, 1, width, 1] or \
                g.attr(pool, "padding") != b"VALID":
            raise ConversionError(f"{pool['name']}: does not take the maximum over all mel bins")
        if one != 1 or unit["pads"] != [[(kt - 1) // 2, kt // 2], [0, 0]]:
            raise ConversionError(f"{unit['name']}: not 'same' in time and 'valid' in mel "
                                  f"(pads {unit['pads']})")
        if input_bn is None:
            input_bn = _input_bn(g, unit["input"])
            input_ref = unit["input"]
        elif not g.same(unit["input"], input_ref):
            raise ConversionError(f"{unit['name']}: does not read the normalised input "
                                  "(an input pooling Musicnn does not have)")
        if kf > 1:
            if temporal:
                raise ConversionError("a timbral branch after a temporal one")
            kind, i = "timbral", len(timbral)
            timbral.append(((kt, kf), filters))
        else:
            kind, i = "temporal", len(temporal)
            temporal.append((kt, filters))
        mapping[f"{kind}.{i}.conv.weight"] = (unit["kernel"], "conv2d")
        mapping[f"{kind}.{i}.conv.bias"] = (unit["bias"], "copy")
        add_bn(f"{kind}.{i}.bn", unit["bn"], unit["eps"])
    if len({f for _, f in timbral}) != 1 or len({f for _, f in temporal}) != 1:
        raise ConversionError("branches of one kind have different numbers of filters")
    _, n_frames, n_mels, bn, e = input_bn
    add_bn("input_bn", bn, e)
    kwargs = {
        "n_mels": n_mels,
        "n_tags": g.attr(g.node(mapping["output.weight"][0]), "shape")[1],
        "timbral_kernels": [list(k) for k, _ in timbral],
        "timbral_filters": timbral[0][1],
        "temporal_kernels": [k for k, _ in temporal],
        "temporal_filters": temporal[0][1],
        "midend_filters": midend[0][1],
        "midend_kernel": midend[0][0],
        "midend_layers": len(midend),
        "backend_units": backend_units,
        "dropout": _one_rate("back end", [rate_pool, rate_out]),
        "eps": _one_eps(eps),
    }
    return kwargs, n_frames, mapping


def vgg_structure(g):
    """Read a VGG graph: the :class:`VGG` kwargs and {torch key: (TF name, how)}."""
    mapping, eps, blocks, rates = {}, [], [], []
    sigmoid = _output(g)
    x, w, b = _dense(g, sigmoid["inputs"][0])
    mapping.update({"output.weight": (w, "dense"), "output.bias": (b, "copy")})
    x, dense_rate = g.dropout(x)
    reshape = g.op(x, "Reshape")
    x = reshape["inputs"][0]
    while True:
        pool = g.op(x, "MaxPool")
        if g.attr(pool, "padding") != b"VALID":
            raise ConversionError(f"{pool['name']}: padded pooling")
        ksize, strides = (_pairs(g.attr(pool, k)["i"]) for k in ("ksize", "strides"))
        if ksize[0] != 1 or ksize[3] != 1 or strides[0] != 1 or strides[3] != 1:
            raise ConversionError(f"{pool['name']}: pools the batch or channel axis")
        unit = _conv_unit(g, pool["inputs"][0])
        kt, kf, _, filters = unit["kshape"]
        if unit["padding"] != "SAME" or unit["pads"] != [[(kt - 1) // 2, kt // 2],
                                                        [(kf - 1) // 2, kf // 2]]:
            raise ConversionError(f"{unit['name']}: not a 'same' convolution")
        blocks.append({"unit": unit, "pool": (ksize[1:3], strides[1:3])})
        x, rate = g.dropout(unit["input"])
        node, _ = g.resolve(x)
        if node["op"] != "MaxPool":
            if rate:
                raise ConversionError("dropout on the input")
            break
        rates.append(rate)
    blocks.reverse()
    placeholder, n_frames, n_mels, bn, e = _input_bn(g, x)
    eps.append(e)
    mapping.update({f"input_bn.{k}": (v, "copy") for k, v in bn.items()})
    kernels = {tuple(bl["unit"]["kshape"][:2]) for bl in blocks}
    widths = {bl["unit"]["kshape"][3] for bl in blocks}
    if len(kernels) != 1 or len(widths) != 1:
        raise ConversionError(f"blocks differ: kernels {kernels}, filters {widths}")
    for i, bl in enumerate(blocks):
        unit = bl["unit"]
        mapping[f"convs.{i}.weight"] = (unit["kernel"], "conv2d")
        mapping[f"convs.{i}.bias"] = (unit["bias"], "copy")
        mapping.update({f"bns.{i}.{k}": (v, "copy") for k, v in unit["bn"].items()})
        eps.append(unit["eps"])
    kwargs = {
        "n_frames": n_frames,
        "n_mels": n_mels,
        "n_tags": g.attr(g.node(w), "shape")[1],
        "filters": widths.pop(),
        "kernel_size": list(kernels.pop()),
        "pool_sizes": [bl["pool"][0] for bl in blocks],
        "pool_strides": [bl["pool"][1] for bl in blocks],
        "conv_dropout": _one_rate("blocks", rates),
        "dense_dropout": dense_rate,
        "eps": _one_eps(eps),
    }
    return kwargs, n_frames, mapping


def _to_torch(array, how):
    if how == "dense":
        return array.T
    if how == "conv2d":
        return array.transpose(3, 2, 0, 1)
    if how == "conv1d":
        return array[:, :, 0, :].transpose(2, 1, 0)
    return array


def convert_checkpoint(files, architecture):
    """Read one checkpoint: (network kwargs, n_frames, torch state dict, TF version).

    Parameters
    ----------
    files : dict of str to bytes
        ``.index``, ``.data-00000-of-00001`` and ``.meta`` contents.
    architecture : {"musicnn", "vgg"}
    """
    header, entries = read_index(files[".index"])
    if header["num_shards"] != 1 or header["endianness"] != 0:
        raise ConversionError(f"expected one little-endian shard, got {header}")
    g = Graph(files[".meta"])
    structure = musicnn_structure if architecture == "musicnn" else vgg_structure
    kwargs, n_frames, mapping = structure(g)
    used = {name for name, _ in mapping.values()}
    optimiser = re.compile(r"(.*/Adam(_1)?|beta[12]_power)$")
    unused = sorted(n for n in entries if n not in used and not optimiser.match(n))
    if unused:
        raise ConversionError(f"variables the inference graph does not use: {unused}")
    missing = sorted(used - set(entries))
    if missing:
        raise ConversionError(f"the checkpoint lacks {missing}")
    data = files[".data-00000-of-00001"]
    state = {}
    for key, (name, how) in mapping.items():
        array = read_tensor(entries[name], data, name)
        declared = g.attr(g.node(name), "shape")
        if list(array.shape) != list(declared):
            raise ConversionError(f"{name}: shape {array.shape} in the checkpoint, "
                                  f"{declared} in the graph")
        state[key] = np.ascontiguousarray(_to_torch(array, how))
    return kwargs, n_frames, state, g.tf_version


# --- cards and files ----------------------------------------------------------------

def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_atomic(path, data):
    """Write bytes to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; the package's files are world-readable
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _scores(text, filename):
    # MTT_musicnn labels its two figures; the other three print "AUC:" twice, the
    # ROC-AUC first and the PR-AUC second as in MTT_musicnn's file and musicnn's README
    values = [float(v) for v in re.findall(r"AUC:\s*([0-9.]+)", text)]
    if len(values) != 2:
        raise ConversionError(f"{filename}: expected two AUC figures, got {text!r}")
    return {"roc_auc": values[0], "pr_auc": values[1], "split": "test",
            "source_file": filename, "text": text.strip()}


def _licence(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines[0].startswith("Copyright"):
        raise ConversionError(f"unexpected licence text: {lines[0]!r}")
    return lines[0], "\n\n".join(lines[1:])


def _tags(configuration, variable):
    for node in ast.parse(configuration).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] \
                == [variable]:
            return [str(t) for t in ast.literal_eval(node.value)]
    raise ConversionError(f"configuration.py defines no {variable}")


def _markdown(card, n_params, size):
    net, fe, sc = card["network"], card["frontend"], card["scores"]
    lines = [
        f"# {card['name']}",
        "",
        card["description"],
        "",
        "## Use",
        "",
        "```python",
        "from skmir.pretrained.musicnn import load_musicnn, musicnn_logmel, musicnn_patches",
        f'network, card = load_musicnn("{card["name"]}")',
        "patches = musicnn_patches(musicnn_logmel(waveforms))  # 16 kHz mono",
        "```",
        "",
        "## Network",
        "",
        f"- Module: `skmir.nn.musicnn.{'Musicnn' if card['architecture'] == 'musicnn' else 'VGG'}`"
        f" with `{json.dumps(net)}`",
        f"- {n_params:,} parameters, float32, `{card['file']}` ({size:,} bytes, "
        f"SHA-256 `{card['sha256']}`)",
        f"- Exposed layers: {', '.join(f'`{x}`' for x in card['layers'])}",
        "",
        "## Input",
        "",
        f"- {fe['sr']} Hz mono; mel power spectrogram: n_fft {fe['n_fft']}, hop "
        f"{fe['hop_length']}, {fe['window']} window, centred with `{fe['pad_mode']}` padding, "
        f"{fe['n_mels']} Slaney mels with Slaney norm, {fe['fmin']:g}-{fe['fmax']:g} Hz, "
        f"power {fe['power']:g}",
        f"- quantised to {fe['quantisation']}, then {fe['log_compression']}",
        f"- patches of {fe['patch_frames']} frames (3 s), time x mel, hop {fe['patch_hop']}; "
        f"remainder {fe['remainder']}; clips shorter than a patch are repeat-padded",
        "",
        "## Training and scores",
        "",
        f"- Data: {card['training']['dataset']}; weights from the {card['training']['source']} "
        f"(`{card['training']['folder']}`, TensorFlow {card['training']['tensorflow']})",
        f"- Test ROC-AUC {sc['roc_auc']:.4f}, PR-AUC {sc['pr_auc']:.4f} "
        f"(`{sc['source_file']}`, as published; not re-measured here)",
        "",
        "## Tags (output order)",
        "",
        ", ".join(card["tags"]),
        "",
        "## Licence",
        "",
        f"Weights: {card['license']['weights']}, {card['license']['copyright']}",
        "",
        card["license"]["notice"],
        "",
        f"Training audio: {card['license']['training_audio']}",
        "",
    ]
    return "\n".join(lines)


def convert(wheel, out_dir=HERE):
    """Convert the four networks of a musicnn 0.1.0 wheel into ``out_dir``.

    Parameters
    ----------
    wheel : path
        ``musicnn-0.1.0-py3-none-any.whl``.
    out_dir : path, default=this folder

    Returns
    -------
    cards : dict of str to dict
    """
    import torch
    from safetensors.torch import save

    from skmir.nn.musicnn import VGG, Musicnn
    from skmir.pretrained import card_digest

    wheel, out_dir = Path(wheel), Path(out_dir)
    wheel_bytes = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
        members = set(zf.namelist())

        def read(member):
            if member not in members:
                raise FileNotFoundError(f"{wheel} has no {member}: is it musicnn 0.1.0?")
            return zf.read(member)

        licence_text = read("musicnn-0.1.0.dist-info/LICENSE.md").decode("utf-8")
        configuration = read("musicnn/configuration.py").decode("utf-8")
        folders = {}
        for name, (folder, *_) in NETWORKS.items():
            folders[name] = {f: read(f"musicnn/{folder}/{f}")
                             for f in CHECKPOINT_FILES + OTHER_FILES}
    copyright_line, notice = _licence(licence_text)
    write_atomic(out_dir / "LICENSE-musicnn", licence_text.encode("utf-8"))

    cards = {}
    for name, (folder, architecture, dataset, labels) in NETWORKS.items():
        files = folders[name]
        kwargs, n_frames, state, tf_version = convert_checkpoint(files, architecture)
        if n_frames != FRONTEND["patch_frames"] or kwargs["n_mels"] != FRONTEND["n_mels"]:
            raise ConversionError(f"{folder}: input ({n_frames}, {kwargs['n_mels']}) does "
                                  "not match the front end")
        config = json.loads(files["config.json"])
        if config["n_frames"] != n_frames or config.get("pad_short") != "repeat-pad":
            raise ConversionError(f"{folder}/config.json disagrees with the graph")
        module = (Musicnn if architecture == "musicnn" else VGG)(**kwargs)
        tensors = {k: torch.from_numpy(v) for k, v in state.items()}
        expected = {k for k in module.state_dict() if not k.endswith("num_batches_tracked")}
        if set(tensors) != expected:
            raise ConversionError(f"{folder}: keys {sorted(set(tensors) ^ expected)} differ")
        module.load_state_dict(tensors, strict=False)
        tags = _tags(configuration, labels)
        if len(tags) != kwargs["n_tags"]:
            raise ConversionError(f"{folder}: {len(tags)} tags, {kwargs['n_tags']} outputs")
        # one metadata key: safetensors writes a dict of several in no fixed order,
        # and the file must be the same at every conversion
        weights = save(tensors, metadata={"format": "pt"})
        write_atomic(out_dir / f"{name}.safetensors", weights)
        card = {
            "format": "skmir-pretrained/1",
            "name": name,
            "description": DESCRIPTIONS[architecture].format(folder=folder, dataset=dataset),
            "file": f"{name}.safetensors",
            "sha256": _sha256(weights),
            "architecture": architecture,
            "network": kwargs,
            "sr": FRONTEND["sr"],
            "frontend": FRONTEND,
            "tags": tags,
            "layers": list(module.layers),
            "training": {
                "dataset": dataset,
                "source": "musicnn 0.1.0 wheel",
                "folder": f"musicnn/{folder}",
                "wheel_sha256": _sha256(wheel_bytes),
                "tensorflow": tf_version,
                "source_files": {f"musicnn/{folder}/{f}": _sha256(files[f])
                                 for f in CHECKPOINT_FILES + OTHER_FILES},
                "config": {k: config[k] for k in (
                    "n_frames", "pre_processing", "pad_short", "train_sampling", "epochs",
                    "batch_size", "weight_decay", "learning_rate", "optimizer", "patience")},
            },
            "scores": _scores(files["experiment.result"].decode("utf-8"),
                              f"musicnn/{folder}/experiment.result"),
            "license": {
                "weights": "ISC",
                "copyright": copyright_line,
                "notice": notice,
                "file": "LICENSE-musicnn",
                "training_audio": TRAINING_AUDIO,
            },
        }
        card["card_sha256"] = card_digest(card)
        n_params = sum(int(np.prod(v.shape)) for v in state.values())
        write_atomic(out_dir / f"{name}.json",
                     (json.dumps(card, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
        write_atomic(out_dir / f"{name}.md",
                     _markdown(card, n_params, len(weights)).encode("utf-8"))
        cards[name] = card
        print(f"{name}: {folder} -> {name}.safetensors ({len(weights):,} bytes, "
              f"{n_params:,} parameters)")
    return cards


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_musicnn WHEEL [OUT_DIR]``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2) or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    convert(argv[0], argv[1] if len(argv) == 2 else HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
