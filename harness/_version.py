"""The harness version, in a module of its own so that nothing imports upward for it."""

__version__ = "0.1.0"
