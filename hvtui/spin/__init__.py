"""SPIN as a second engine: the Promela model compiled, searched and read back."""
