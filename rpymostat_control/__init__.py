"""RPyMostat control daemon (a skeleton until its issue lands)."""
