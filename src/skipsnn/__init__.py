"""skipsnn: feedforward spiking neural networks with heterogeneous dynamics and skips."""

__version__ = "0.1.0"
