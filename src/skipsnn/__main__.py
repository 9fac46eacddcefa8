"""``python -m skipsnn ...`` is the ``skipsnn`` command (also for ``torchrun -m skipsnn``)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
