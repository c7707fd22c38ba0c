"""RPyMostat webui daemon (a skeleton until its issue lands)."""
