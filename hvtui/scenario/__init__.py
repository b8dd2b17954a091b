"""Scenario files: YAML with positions, the rules, the schema, expectations and saving."""
