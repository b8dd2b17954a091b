"""`hvtui serve`'s web side: textual-serve, with sessions that always end."""
