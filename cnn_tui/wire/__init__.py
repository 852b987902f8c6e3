"""The run's data as explicit JSON: a typed codec and a bounded line reader (no pickle)."""

from cnn_tui.wire.codec import WireError, decode, decode_tensor, encode, encode_tensor
from cnn_tui.wire.lines import MAX_LINE, LineError, read_line, write_line

__all__ = [
    "MAX_LINE",
    "LineError",
    "WireError",
    "decode",
    "decode_tensor",
    "encode",
    "encode_tensor",
    "read_line",
    "write_line",
]
