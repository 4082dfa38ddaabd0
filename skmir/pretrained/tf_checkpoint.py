"""Reading TensorFlow 1 checkpoints and graphs by hand, without TensorFlow.

What :mod:`skmir.pretrained.convert_musicnn` needs, and nothing more: CRC-32C as
LevelDB and TensorFlow mask it, the protobuf wire format, the checkpoint V2 tensor
bundle (the ``.index`` SSTable of ``BundleEntryProto`` records and the raw ``.data``
shard, every block and tensor checked against its CRC), and a ``MetaGraphDef``'s
nodes and their attributes (:class:`Graph`). A developer's tool, run once; nothing
here runs when skmir is used.
"""

import struct

import numpy as np

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
