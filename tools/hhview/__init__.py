"""hh-view: render libhoneyhive file-exporter output (OTLP/JSON lines) as session trees.

Python 3 standard library only. Modules:
  model  -- reading the file, decoding OTLP attribute values, sessions and span trees
  text   -- the terminal tree (colours only on a TTY and without NO_COLOR)
  html   -- a self-contained HTML waterfall page
  cli    -- the `tools/hh-view` command line
"""

__version__ = "0.1.0"
