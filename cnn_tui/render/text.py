"""Placing a line of text in a fixed number of cells: the one centring rule every picture uses."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size


def centre(text: str, width: int, *, cut: str = "") -> str:
    """``text`` centred in exactly ``width`` cells (the odd space on the right); a longer
    text is cut to fit, ending in ``cut`` when there is room for it."""
    length = cell_len(text)
    if length > width:
        room = width - cell_len(cut)
        text = set_cell_size(text, room) + cut if cut and room >= 1 else set_cell_size(text, width)
        length = cell_len(text)
    left = (width - length) // 2
    return " " * left + text + " " * (width - length - left)
