"""The headless training engine: the tutorial's loop as a controllable state machine.

Nothing in this package imports textual or rich; views are sinks of its events.
"""
