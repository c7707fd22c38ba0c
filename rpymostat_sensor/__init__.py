"""RPyMostat sensor daemon (a skeleton until its issue lands)."""
