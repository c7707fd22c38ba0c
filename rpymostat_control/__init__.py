"""RPyMostat control daemon: switches relays for the engine, within minimum times and a lease."""
