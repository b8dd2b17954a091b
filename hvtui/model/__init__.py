"""The protocol model: state values, variants, the atomic steps, properties and sessions.

The bottom layer: no YAML, no Rich, no Textual.
"""
