"""Plants one known bug into a copy of trained smoke models, for `cargo xtask gate-demo`.

Each bug edits weights so that a network ignores one of its inputs, the way a wiring bug in the
code would (a decoder never reading y, a generator never reading z, ...). The files are safetensors
checkpoints written by `sliders`; this script reads and rewrites them with the standard library
only (an 8-byte header length, a JSON header, raw little-endian tensors), so it needs nothing but
Python 3.

usage: plant_bug.py BUG RUNS_DIR     (edits RUNS_DIR's checkpoints in place; use a copy)
"""

import array
import json
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    return header, bytearray(blob[8 + n :])


def write(path, header, data):
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + bytes(data))
    os.replace(tmp, path)


def tensor(header, data, name):
    """The tensor `name` as (a float array, its shape, its byte range)."""
    info = header[name]
    if info["dtype"] != "F32":
        sys.exit(f"{name}: {info['dtype']} tensors are not handled (only F32)")
    start, end = info["data_offsets"]
    values = array.array("f")
    values.frombytes(bytes(data[start:end]))
    if sys.byteorder != "little":
        values.byteswap()
    return values, info["shape"], (start, end)


def store(data, values, span):
    if sys.byteorder != "little":
        values = array.array("f", values)
        values.byteswap()
    data[span[0] : span[1]] = values.tobytes()


def edit_rows(header, data, name, rows, how):
    """Sets input rows `rows` (first axis) of `name` to zero, or to their mean (`how`)."""
    values, shape, span = tensor(header, data, name)
    per_row = len(values) // shape[0]
    if how == "mean":
        mean = [sum(values[r * per_row + i] for r in rows) / len(rows) for i in range(per_row)]
    for r in rows:
        for i in range(per_row):
            values[r * per_row + i] = mean[i] if how == "mean" else 0.0
    store(data, values, span)


def config(header):
    return json.loads(header["__metadata__"]["sliders.config"])


def decoder_ignores_y(header, data):
    """Each decoder layer reads [h, y]: y's rows get one shared weight (their mean), so every
    y whose entries sum to 1 (the Fader's [1 - a, a]) decodes alike."""
    n_attr = config(header)["n_attr"]
    layers = sorted(k for k in header if k.startswith("dec_layers.") and k.endswith(".0.weight"))
    for name in layers:
        n_in = header[name]["shape"][0]
        edit_rows(header, data, name, range(n_in - n_attr, n_in), "mean")
    return layers


def generator_input_rows(header, data, part):
    """G's first layer reads [z, y]: zeroes the rows of `part`, so G never sees it."""
    cfg = config(header)
    rows = range(cfg["nz"]) if part == "z" else range(cfg["nz"], cfg["nz"] + cfg["ny"])
    edit_rows(header, data, "main.0.weight", rows, "zero")
    return ["main.0.weight"]


def last_layer(header, data, branch):
    """Zeroes an encoder's last dense layer (`branch`: z or y), so its output is the bias."""
    names = [f"{branch}_branch.fc_layers.3.weight", "fc_layers.3.weight"]
    name = next(n for n in names if n in header)
    values, _, span = tensor(header, data, name)
    store(data, array.array("f", bytes(4 * len(values))), span)
    return [name]


def plant(bug, kind, header, data):
    """The edit of `bug` on a checkpoint of `kind`, or None when the file is not concerned."""
    if bug == "decoder-ignores-y" and kind == "fader-autoencoder":
        return decoder_ignores_y(header, data)
    if bug == "generator-ignores-z" and kind == "icgan-generator":
        return generator_input_rows(header, data, "z")
    if bug == "generator-ignores-y" and kind == "icgan-generator":
        return generator_input_rows(header, data, "y")
    z_encoders = ("icgan-encoder-z", "icgan-encoder-z-cond", "icgan-encoder-sng")
    if bug == "encoder-z-ignores-image" and kind in z_encoders:
        return last_layer(header, data, "z")
    if bug == "encoder-y-ignores-image" and kind in ("icgan-encoder-y", "icgan-encoder-sng"):
        return last_layer(header, data, "y")
    return None


BUGS = [
    "decoder-ignores-y",
    "generator-ignores-z",
    "generator-ignores-y",
    "encoder-z-ignores-image",
    "encoder-y-ignores-image",
]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in BUGS:
        sys.exit(f"usage: plant_bug.py BUG RUNS_DIR, BUG one of {', '.join(BUGS)}")
    bug, runs = sys.argv[1], sys.argv[2]
    changed = 0
    for folder, _, files in sorted(os.walk(runs)):
        for f in sorted(files):
            if not f.endswith(".safetensors"):
                continue
            path = os.path.join(folder, f)
            header, data = read(path)
            kind = header.get("__metadata__", {}).get("sliders.kind")
            edited = plant(bug, kind, header, data)
            if edited:
                write(path, header, data)
                changed += 1
                print(f"  {bug}: {os.path.relpath(path, runs)} ({', '.join(edited)})")
    if changed == 0:
        sys.exit(f"{bug}: no checkpoint in {runs} holds the network it concerns")


if __name__ == "__main__":
    main()
