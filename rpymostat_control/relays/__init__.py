"""Relay backends: the hardware a control unit switches (Phidget22, GPIO, simulated)."""
