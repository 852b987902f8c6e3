"""The system panel's lines: each process of the run (each rank), what it costs, who lags.

Pure functions from :class:`~cnn_tui.engine.events.SystemSampled` to rich Text, sized to a
width: each line keeps its most useful facts and drops the others to fit. A value the
process could not read is "n/a". A *straggler* is marked: a rank whose heartbeat is late
(its sampler has not been heard from for :data:`LATE_S` — stuck, or gone), or, of two or
more ranks, the one whose forward pass is :data:`SLOW_RATIO` times the fastest's (its share
costs it more: a hotter GPU, a busier core; the others wait for it at every step).
"""

from __future__ import annotations

from rich.text import Text

from cnn_tui.engine.events import RankSample, SystemSampled
from cnn_tui.render.glyphs import UNICODE, Glyphs

LATE_S = 3.0
SLOW_RATIO = 1.5
NA = "n/a"


def stragglers(rows: tuple[RankSample, ...]) -> dict[int, str]:
    """Rank -> why it lags, for the ranks that do."""
    found = {r.rank: f"late {r.age_s:.0f}s" for r in rows if r.age_s > LATE_S}
    timed = [r for r in rows if r.forward_ms is not None and r.rank not in found]
    if len(timed) >= 2:
        fastest = min(r.forward_ms for r in timed if r.forward_ms is not None)
        slowest = max(timed, key=lambda r: r.forward_ms or 0.0)
        if slowest.forward_ms is not None and fastest > 0:
            ratio = slowest.forward_ms / fastest
            if ratio >= SLOW_RATIO:
                found[slowest.rank] = f"slow {ratio:.1f}x"
    return found


def megabytes(count: int | None) -> str:
    return NA if count is None else f"{count / 2**20:,.0f} MB"


def _gpu_facts(row: RankSample) -> list[tuple[int, str]]:
    if not row.device.startswith("cuda"):
        return []
    util = NA if row.gpu_util is None else f"{row.gpu_util:.0f}%"
    if row.gpu_mem_used is None or row.gpu_mem_total is None:
        memory = NA
    else:
        memory = f"{row.gpu_mem_used / 2**30:.1f}/{row.gpu_mem_total / 2**30:.0f} GB"
    temp = NA if row.gpu_temp_c is None else f"{row.gpu_temp_c:.0f}C"
    power = NA if row.gpu_power_w is None else f"{row.gpu_power_w:.0f}W"
    return [(1, f"gpu {util}"), (2, f"mem {memory}"), (4, f"{temp}"), (4, f"{power}")]


def rank_line(
    row: RankSample, width: int, *, ranks: int, lag: str | None = None, glyphs: Glyphs = UNICODE
) -> Text:
    """One process: who, where, how fast, what it costs; most useful first."""
    rate = NA if row.samples_per_s is None else f"{row.samples_per_s:,.0f}/s"
    cpu = NA if row.cpu_percent is None else f"{row.cpu_percent:.0f}%"
    facts: list[tuple[int, str]] = [(0, f"cpu {cpu}"), (1, f"rss {megabytes(row.rss_bytes)}")]
    facts += _gpu_facts(row)
    if ranks > 1:
        where = f"e{row.epoch} b{row.batch_index}" + (" held" if row.held else "")
        forward = NA if row.forward_ms is None else f"{row.forward_ms:.1f}ms"
        facts = [(0, where), (1, rate), (3, f"fwd {forward}"), *facts]
    head = f"rank {row.rank}" if ranks > 1 else "process"
    text = Text(no_wrap=True, overflow=glyphs.overflow)
    text.append(head, style=glyphs.style("bold"))
    tail = f"  straggler: {lag}" if lag else ""
    budget = width - len(head) - len(tail)
    while facts and sum(len(f) + len(glyphs.sep) for _, f in facts) + 1 > budget:
        facts.remove(max(reversed(facts), key=lambda pf: pf[0]))
    if facts:
        text.append(" " + glyphs.sep.join(f for _, f in facts))
    if tail:
        text.append(tail, style=glyphs.style("bold red"))
    return text


def system_lines(
    sample: SystemSampled, width: int, height: int, *, glyphs: Glyphs = UNICODE
) -> list[Text]:
    """At most ``height`` lines: every rank if they fit, else the stragglers first and a
    summary of the rest."""
    rows = sample.ranks
    lags = stragglers(rows)
    ranks = max(len(rows), 1)
    if len(rows) <= height:
        shown = list(rows)
    else:
        lagging = [r for r in rows if r.rank in lags]
        others = [r for r in rows if r.rank not in lags]
        shown = (lagging + others)[: max(height - 1, 0)]
    lines = [rank_line(r, width, ranks=ranks, lag=lags.get(r.rank), glyphs=glyphs) for r in shown]
    if len(shown) < len(rows):
        rest = [r for r in rows if r not in shown]
        rates = [r.samples_per_s for r in rest if r.samples_per_s is not None]
        summary = f"{glyphs.ellipsis} {len(rest)} more ranks"
        if rates:
            summary += f", {min(rates):,.0f} to {max(rates):,.0f}/s"
        lines.append(Text(summary, style=glyphs.style("dim"), no_wrap=True))
    return lines
