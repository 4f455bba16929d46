"""Command line: hh-view FILE... [--html OUT.html] [--session ID] [--color auto|always|never]."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from . import __version__
from .html import render_html
from .model import build_sessions, load_files
from .text import render_text, use_color


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hh-view",
        description="Show libhoneyhive file-exporter output (HH_EXPORTER=file, OTLP/JSON lines) "
        "as one span tree per session, or write an HTML waterfall page.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="OTLP/JSON lines file(s); '-' reads stdin")
    p.add_argument("--html", metavar="OUT.html", help="also write a self-contained HTML waterfall page")
    p.add_argument("--session", metavar="ID", help="only sessions whose id starts with ID")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colours: auto (default: only on a terminal, and not with NO_COLOR)")
    p.add_argument("--ascii", action="store_true", help="ASCII tree lines instead of box drawing")
    p.add_argument("--all", action="store_true", help="also show feedback, metadata and user_properties")
    p.add_argument("--width", type=int, default=40, metavar="N", help="cut string values at N characters (default 40)")
    p.add_argument("--quiet", "-q", action="store_true", help="no tree on stdout (with --html)")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        spans, warnings = load_files(args.files)
    except OSError as e:
        print(f"hh-view: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    for w in warnings:
        print(f"hh-view: warning: {w}", file=sys.stderr)
    sessions = build_sessions(spans)
    if args.session:
        sessions = [s for s in sessions if s.session_id.startswith(args.session)]
    if not args.quiet:
        ascii_only = args.ascii
        if not ascii_only:
            try:
                "\u251c\u2500\u2717".encode(sys.stdout.encoding or "ascii")
            except (UnicodeEncodeError, LookupError):
                ascii_only = True
        color = use_color(args.color, sys.stdout)
        sys.stdout.write(render_text(sessions, color=color, ascii_only=ascii_only, value_limit=max(args.width, 8),
                                     all_namespaces=args.all))
    if args.html:
        source = ", ".join(os.path.basename(f) for f in args.files)
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(render_html(sessions, source))
        print(f"hh-view: wrote {args.html}", file=sys.stderr)
    return 0
