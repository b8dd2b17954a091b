"""Real traces in: read an ftrace / trace-cmd log of the series' tracepoints,
build the scenario it implies and search for a run of the model that produces it.

Headless (no Textual): lines.py reads the text, formats.py knows each
tracepoint's TP_printk, tracepoints.py says which step prints what,
build.py turns the events into a program, search.py finds the run.
"""
