"""The exhaustive checker: the search and its reductions (POR, symmetry, SRCU generations)."""
