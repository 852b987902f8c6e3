"""Choosing how big to draw each stage of a network so a pipeline diagram fits a screen.

Pure arithmetic on sizes (no tensors, no drawing), so it is cheap, cached and testable.

A :class:`Stage` is one tensor to draw: ``maps`` (C square maps of side S, drawn as a grid),
a ``strip`` (a vector wrapped into rows), a ``column`` (one value per line, lined up with the
class bars) or ``bars`` (class probabilities). :func:`choices` lists the ways to draw a stage
within a body height — for maps each pixel size (S magnified, native, or shrunk by block
means) in its narrowest grid. :func:`fit_row` tries every combination for a row of blocks
joined by arrows and keeps the best that fits, ranked by

1. detail kept: the sum over stages of log(drawn side / native side), capped at native, and
   a heavier penalty for maps left out ("+N more", the last resort);
2. magnification of small maps and strips (log of the zoom);
3. the narrower row (what is left widens the probability bars).

Ranking detail in logs makes halving one stage cost the same wherever it happens, so no
stage is shrunk to nothing to keep another large. :func:`plan` lays out rows on one page if
they fit with every map legible (shrunk at most threefold), else as pages (runs of stages,
never across a row: the fewest pages, then the most detail), then with smaller maps, and
only then with maps left out.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len

from cnn_tui.render.flow import wrap_words

MAGNIFY_UP_TO = 16  # small maps are magnified while their side stays within this
SHRINK_DOWN_TO = 4  # and large ones shrunk no smaller than this
STRIP_SCALES = (2, 1)
COLUMN_WIDTH = 4
BARS_MIN_WIDTH, BARS_MAX_WIDTH = 16, 40
CUT_PENALTY = 4.0  # leaving maps out costs more than shrinking them
LABEL_LINES = (2, 3, 4)
LEGIBLE, SMALL, CUT = 0, 1, 2  # how far a stage may give way: shrunk ≤ 3×, more, maps cut
GAP, ROW_GAP = 1, 1  # between maps in a grid: one column, one line


@dataclass(frozen=True, slots=True)
class Stage:
    name: str  # "conv1"
    title: str  # the tutorial's step, "1 Convolution"
    caption: str  # "conv1 10×24×24"
    kind: str  # "maps", "strip", "column" or "bars"
    count: int  # maps, or values for the other kinds
    side: int = 0  # maps only


@dataclass(frozen=True, slots=True)
class Choice:
    """One way to draw a stage: its body's size and how it is drawn."""

    width: int
    height: int
    pixels: int = 0  # maps: drawn side in pixels; strips: scale
    per_row: int = 1  # maps per grid row, values per strip row
    shown: int = 0  # maps drawn; the rest are summed up as "+N more"
    detail: float = 0.0
    zoom: float = 0.0


@dataclass(frozen=True, slots=True)
class RowFit:
    stages: tuple[Stage, ...]
    choices: tuple[Choice, ...]
    widths: tuple[int, ...]  # block widths: the body's or the label's, whichever is wider
    label_lines: int
    arrow: int

    @property
    def body_height(self) -> int:
        return max(c.height for c in self.choices)

    @property
    def height(self) -> int:
        return self.label_lines + self.body_height

    @property
    def width(self) -> int:
        return sum(self.widths) + self.arrow * (len(self.widths) - 1)

    def score(self) -> tuple[float, float, int]:
        return (
            round(sum(c.detail for c in self.choices), 9),
            round(sum(c.zoom for c in self.choices), 9),
            -self.width,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    pages: tuple[tuple[RowFit, ...], ...]  # each page: its rows, top to bottom
    gap: int = 0  # blank lines between rows on a page


def label_line_count(stage: Stage, width: int) -> int:
    return len(wrap_words(stage.title, width)) + len(wrap_words(stage.caption, width))


@lru_cache(maxsize=256)
def label_width(stage: Stage, lines: int) -> int | None:
    """The narrowest block whose wrapped labels take at most ``lines`` lines (None: none)."""
    widest = max(cell_len(stage.title), cell_len(stage.caption), 1)
    narrowest = max(cell_len(w) for w in (stage.title + " " + stage.caption).split())
    for width in range(narrowest, widest + 1):
        if label_line_count(stage, width) <= lines:
            return width
    return None


def map_sizes(side: int, *, legible: bool = True) -> list[int]:
    """Drawn sides for maps of ``side`` pixels, largest first; ``legible`` ones are shrunk
    at most threefold."""
    bigger = [side * k for k in (4, 3, 2) if side * k <= MAGNIFY_UP_TO]
    factors = (2, 3) if legible else (2, 3, 4, 6)
    smaller = [side // k for k in factors if side % k == 0 and side // k >= SHRINK_DOWN_TO]
    return [*bigger, side, *smaller]


def _grid(count: int, per_row: int, pixels: int) -> tuple[int, int]:
    rows = math.ceil(count / per_row)
    return per_row * (pixels + GAP) - GAP, rows * (math.ceil(pixels / 2) + ROW_GAP) - ROW_GAP


def _map_choices(stage: Stage, height: int, level: int) -> list[Choice]:
    found: list[Choice] = []
    sizes = map_sizes(stage.side, legible=level == LEGIBLE)
    for pixels in sizes:
        tile = math.ceil(pixels / 2) + ROW_GAP
        rows = (height + ROW_GAP) // tile
        if rows < 1:
            continue
        per_row = math.ceil(stage.count / rows)
        width, used = _grid(stage.count, per_row, pixels)
        detail = math.log(min(pixels, stage.side) / stage.side)
        zoom = math.log(max(pixels, stage.side) / stage.side)
        found.append(Choice(width, used, pixels, per_row, stage.count, detail, zoom))
    if level == CUT and stage.count > 1:  # the smallest size, fewer maps, a "+N more" line
        pixels = sizes[-1]
        rows = (height - 1 + ROW_GAP) // (math.ceil(pixels / 2) + ROW_GAP)
        detail = math.log(min(pixels, stage.side) / stage.side)
        per_row = math.ceil(stage.count / max(rows, 1))
        while rows >= 1 and per_row > 1:
            per_row = max(1, per_row // 2)
            shown = min(stage.count, per_row * rows)
            width, used = _grid(shown, per_row, pixels)
            cut = CUT_PENALTY * math.log(shown / stage.count)
            found.append(Choice(width, used + 1, pixels, per_row, shown, detail + cut))
    return found


def strip_widths(count: int) -> list[int]:
    """Values per row for a vector drawn as a strip: whole rows, at least twice as wide as
    the strip is tall (so it still reads as a strip, folded)."""
    return [d for d in range(1, count + 1) if count % d == 0 and count // d * 2 <= d]


def _strip_choices(stage: Stage, height: int) -> list[Choice]:
    found: list[Choice] = []
    for per_row in strip_widths(stage.count):
        for scale in STRIP_SCALES:
            lines = math.ceil(stage.count // per_row * scale / 2)
            if lines <= height:
                found.append(Choice(per_row * scale, lines, scale, per_row, zoom=math.log(scale)))
    return found


def choices(stage: Stage, height: int, level: int = LEGIBLE) -> list[Choice]:
    """Ways to draw ``stage`` with a body at most ``height`` lines tall, down to ``level``."""
    if stage.kind == "maps":
        return _map_choices(stage, height, level)
    if stage.kind == "strip":
        return _strip_choices(stage, height)
    if stage.count > height:  # a column or bars: one line per value
        return []
    width = COLUMN_WIDTH if stage.kind == "column" else BARS_MIN_WIDTH
    return [Choice(width, stage.count)]


@lru_cache(maxsize=512)
def fit_row(
    stages: tuple[Stage, ...], width: int, height: int, *, arrow: int = 3, level: int = LEGIBLE
) -> RowFit | None:
    """The best way to draw ``stages`` side by side in ``width`` × ``height``, or None."""
    best: RowFit | None = None
    for lines in LABEL_LINES:
        floors = [label_width(stage, lines) for stage in stages]
        options = [choices(stage, height - lines, level) for stage in stages]
        if any(f is None for f in floors) or not all(options):
            continue
        for combo in itertools.product(*options):
            widths = tuple(max(c.width, f or 0) for c, f in zip(combo, floors, strict=True))
            if sum(widths) + arrow * (len(widths) - 1) > width:
                continue
            fit = RowFit(stages, combo, widths, lines, arrow)
            if best is None or fit.score() > best.score():
                best = fit
    return best if best is None else _widen_bars(best, width)


def _widen_bars(fit: RowFit, width: int) -> RowFit:
    """Give the probability bars what the row leaves over, up to a comfortable width."""
    spare = width - fit.width
    widths = list(fit.widths)
    for index, stage in enumerate(fit.stages):
        if stage.kind == "bars" and spare > 0:
            grown = min(BARS_MAX_WIDTH, widths[index] + spare)
            spare -= grown - widths[index]
            widths[index] = grown
    return RowFit(fit.stages, fit.choices, tuple(widths), fit.label_lines, fit.arrow)


def _one_page(rows: tuple[tuple[Stage, ...], ...], width: int, height: int) -> Plan | None:
    """Every row stacked on one page: the last rows as short as they fit, the first gets
    the rest; a blank line between rows unless dropping it buys the first row more detail."""
    if len(rows) == 1:
        only = fit_row(rows[0], width, height)
        return None if only is None else Plan(((only,),))
    rest: list[RowFit] = []
    for row in rows[1:]:
        fitted = next(
            (f for h in range(1, height + 1) if (f := fit_row(row, width, h)) is not None),
            None,
        )
        if fitted is None:
            return None
        rest.append(fitted)
    best: Plan | None = None
    best_score: tuple[float, float, int] | None = None
    for gap in (1, 0):
        room = height - sum(f.height for f in rest) - gap * len(rest)
        first = fit_row(rows[0], width, room) if room > 0 else None
        if first is not None and (best_score is None or first.score() > best_score):
            best, best_score = Plan(((first, *rest),), gap), first.score()
    return best


def _pages(row: tuple[Stage, ...], width: int, height: int, level: int) -> list[RowFit]:
    """``row`` cut into consecutive runs of stages, one page each: the fewest pages, then
    the most detail; [] if some stage fits no page."""
    best: list[RowFit] = []
    best_key: tuple[int, float, float] | None = None
    for cuts in itertools.product((False, True), repeat=len(row) - 1):
        bounds = [0, *(i + 1 for i, cut in enumerate(cuts) if cut), len(row)]
        pages = [
            fit_row(row[a:b], width, height, level=level) for a, b in itertools.pairwise(bounds)
        ]
        if any(page is None for page in pages):
            continue
        fitted = [page for page in pages if page is not None]
        scores = [page.score() for page in fitted]
        key = (-len(fitted), sum(s[0] for s in scores), sum(s[1] for s in scores))
        if best_key is None or key > best_key:
            best, best_key = fitted, key
    return best


@lru_cache(maxsize=64)
def plan(rows: tuple[tuple[Stage, ...], ...], width: int, height: int) -> Plan | None:
    """How to show ``rows`` in ``width`` × ``height``: one page, pages, or cut; None if the
    space cannot hold even one stage at its smallest."""
    single = _one_page(rows, width, height)
    if single is not None:
        return single
    for level in (LEGIBLE, SMALL, CUT):
        pages = [_pages(row, width, height, level) for row in rows]
        if all(pages):
            return Plan(tuple((page,) for row in pages for page in row))
    return None
