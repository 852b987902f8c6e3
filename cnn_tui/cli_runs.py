"""The commands about runs that already exist: ``attach``, ``runs``, ``stop``, ``serve``.

RUN is a run's id, a unique prefix of one, or its directory; ``attach`` and ``serve``
default to the newest run that is going. Each refusal is one line (exit status 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnn_tui.cli_parsing import Parser, UsageError

RUN_HELP = "a run's id, a unique prefix of one, or its directory"


def attach(argv: list[str]) -> int:
    parser = Parser(prog="cnn-tui attach", description="Open the monitor on a running run.")
    parser.add_argument("run", nargs="?", metavar="RUN", help=f"{RUN_HELP} (default: newest)")
    parser.add_argument("--read-only", action="store_true", help="watch without steering")
    parser.add_argument("--compare", nargs="+", metavar="RUN", default=[], help="runs to overlay")
    parser.add_argument("--web", action="store_true", help=argparse.SUPPRESS)  # cnn-tui serve
    args = parser.parse_args(argv)
    from cnn_tui.tui.launch import LaunchError, run_attach

    run_dir = _live_run(args.run)
    if not args.web and not sys.stdout.isatty():
        raise UsageError("attach opens the monitor: run it in a terminal (or cnn-tui serve)")
    from cnn_tui.cli import compared

    try:
        return run_attach(run_dir, read_only=args.read_only, compare=compared(args.compare))
    except LaunchError as err:
        raise UsageError(str(err)) from None


def runs(argv: list[str]) -> int:
    parser = Parser(prog="cnn-tui runs", description="List your runs, wherever they write.")
    parser.parse_args(argv)
    from cnn_tui.runs.listing import table
    from cnn_tui.runs.registry import list_runs

    found = list_runs()
    if not found:
        print("no runs yet: start one with cnn-tui (or cnn-tui --detach)")
        return 0
    print(table(found))
    return 0


def stop(argv: list[str]) -> int:
    parser = Parser(prog="cnn-tui stop", description="Stop a run; it saves a checkpoint first.")
    parser.add_argument("run", metavar="RUN", help=RUN_HELP)
    args = parser.parse_args(argv)
    from cnn_tui.endpoint.client import EndpointError, RunClient
    from cnn_tui.engine.control import Stop

    run_dir = _live_run(args.run)
    try:
        client = RunClient(run_dir)
    except (EndpointError, OSError) as err:
        raise UsageError(str(err)) from None
    client.send(Stop())
    saved = None
    for message in client.messages():  # until the run closes the connection: it has ended
        if message.get("type") == "event" and message.get("name") == "CheckpointSaved":
            saved = message["data"].get("path")
        elif message.get("type") == "reply" and message.get("ok") is False:
            raise UsageError(f"the run refused to stop: {message.get('error')}")
    client.close()
    print(
        f"cnn-tui: stopped {client.hello.get('run_id')}"
        + (f"; checkpoint {saved}" if saved else "")
    )
    return 0


def serve(argv: list[str]) -> int:
    from cnn_tui.web import DEFAULT_PORT, DEFAULT_TABS

    parser = Parser(prog="cnn-tui serve", description="Watch a running run in a browser.")
    parser.add_argument("run", nargs="?", metavar="RUN", help=f"{RUN_HELP} (default: newest)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--control", action="store_true", help="let the browser steer the run")
    parser.add_argument(
        "--max-tabs", type=int, default=DEFAULT_TABS, help=f"default {DEFAULT_TABS}"
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535 (got {args.port})")
    if args.max_tabs < 1:
        raise UsageError(f"--max-tabs must be at least 1 (got {args.max_tabs})")
    from cnn_tui.web import GuardedServer, viewer_command

    run_dir = _live_run(args.run)
    server = GuardedServer(
        viewer_command(run_dir, control=args.control),
        host=args.host,
        port=args.port,
        max_tabs=args.max_tabs,
    )
    try:
        server.serve()
    except OSError as err:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} ({err.strerror}): try --port"
        ) from None
    return 0


def compare(argv: list[str]) -> int:
    parser = Parser(prog="cnn-tui compare", description="Compare runs: what differs, and how.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help=RUN_HELP)
    parser.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    args = parser.parse_args(argv)
    from cnn_tui.runs.compare import as_csv, as_text, table
    from cnn_tui.runs.registry import RunNotFound, find_run
    from cnn_tui.runs.traces import TraceReader

    traces = []
    for name in args.runs:
        try:
            run_dir = find_run(name)
        except RunNotFound as err:
            raise UsageError(str(err)) from None
        reader = TraceReader(run_dir)
        if not reader.read():
            raise UsageError(f"{run_dir} has no training in its events.jsonl yet")
        traces.append(reader.trace)
    header, rows = table(traces)
    print(as_csv(header, rows) if args.csv else as_text(header, rows), end="\n" * (not args.csv))
    return 0


def _live_run(name: str | None) -> Path:
    from cnn_tui.runs.lock import is_live
    from cnn_tui.runs.registry import RunNotFound, find_run, newest_live

    try:
        run_dir = newest_live() if name is None else find_run(name, live_only=True)
    except RunNotFound as err:
        raise UsageError(str(err)) from None
    if not is_live(run_dir):
        raise UsageError(f"{name or run_dir} is not running: cnn-tui runs shows how it ended")
    return run_dir
