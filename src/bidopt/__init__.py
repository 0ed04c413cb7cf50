"""bidopt: ROI-constrained bid optimiser for keyword ad campaigns."""

__version__ = "0.1.0"
