"""Command groups of the ``skipsnn`` CLI; each module has ``register(subparsers)``."""
