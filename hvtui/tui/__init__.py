"""The Textual workbench: the only package (with serve and svg export) that imports textual."""
