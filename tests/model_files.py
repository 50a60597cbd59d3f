"""Crafting model files for the tests: any member, any config, with a valid checksum (the
checksum is public: anyone can compute it, so it proves nothing about intent)."""

import json
import struct
import zipfile

import numpy as np

from cartoonbrain import io as cbio


def encode(config):
    """A config as the archive stores it: UTF-8 JSON bytes in a uint8 array."""
    return np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)


def members_of(net, optimizer=None, training=None):
    """The members a model file of ``net`` holds (config as JSON bytes), no checksum."""
    config, arrays = net.state(optimizer)
    config = {"format": cbio.FORMAT, "format_version": cbio.FORMAT_VERSION, **config}
    if training is not None:
        config["training"] = training
    return {**{k: np.array(v) for k, v in arrays.items()}, "config.json": encode(config)}


def config_of(members):
    return json.loads(members["config.json"].tobytes())


def write_raw(path, members, checksum=True):
    """An archive of ``members`` written by NumPy, with a valid checksum unless not asked."""
    members = dict(members)
    if checksum:
        members["checksum"] = cbio.digest(members)
    np.savez(path, **members)


def npy_bytes(array):
    """A .npy file's bytes."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    """A zip of ``entries`` (name -> bytes), as they are: any name, any content."""
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def npy_with_header(header, data=b""):
    """A version-1 .npy member with the given header text (padded as NumPy pads it)."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def declare_size(path, name, size, compressed=False):
    """Patch the (uncompressed, or also the compressed) size a zip declares for member
    ``name``, in its local header and the central directory, leaving its data as it is:
    a bomb's lie."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    local = info.header_offset
    data[local + 22 : local + 26] = struct.pack("<I", size)
    if compressed:
        data[local + 18 : local + 22] = struct.pack("<I", size)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_length] == name.encode():
            data[at + 24 : at + 28] = struct.pack("<I", size)
            if compressed:
                data[at + 20 : at + 24] = struct.pack("<I", size)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
