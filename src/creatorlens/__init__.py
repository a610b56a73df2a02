"""creatorlens: privacy-first creator analytics for short-video platforms."""

__version__ = "0.1.0"
