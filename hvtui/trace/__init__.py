"""Real traces in: read an ftrace / trace-cmd log of the series' tracepoints,
build the scenario it implies and search for a run of the model that produces it.

Headless (no Textual): lines.py reads the text, formats.py knows each
tracepoint's TP_printk, the step table (hvtui.model.steps) says which step
prints which and tracepoints.py fills in their fields,
build.py turns the events into a program, search.py finds the run.
"""
