"""``cartoonbrain export``: a saved model as an ONNX graph (needs the onnx extra).

cartoonbrain export --model PATH --out FILE.onnx [--input-shape C,H,W]
"""

from __future__ import annotations

import argparse
from typing import Any

from ._args import add_model_option, sample_shape
from ._files import ONNX, Files, naming

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a saved model to ONNX (needs the onnx extra)",
        description="Write a saved model as an ONNX graph whose output is what predict gives "
        "(class probabilities for classifiers). Needs pip install 'cartoonbrain[onnx]'.",
    )
    add_model_option(p)
    p.add_argument("--out", required=True, metavar="FILE.onnx", help="where to write it")
    p.add_argument(
        "--input-shape",
        type=sample_shape,
        metavar="C,H,W",
        help="one sample's shape, for a model that starts with a convolution or pooling "
        "layer and does not record it (e.g. 1,28,28)",
    )
    p.set_defaults(handler=run, files=Files(inputs=("model",), outputs={"out": ONNX}))


def run(args: argparse.Namespace) -> int:
    from ..onnx import export_file

    with naming(args.out):
        export_file(args.model, args.out, input_shape=args.input_shape)
    print(f"wrote the ONNX model to {args.out}")
    return 0
