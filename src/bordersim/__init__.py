"""bordersim: simulate and plan U.S. southwest border operations during surges."""

__version__ = "0.1.0"
