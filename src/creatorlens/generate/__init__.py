"""Synthetic platform exports for demos, tests and benchmarks."""

from creatorlens.generate.platform import GeneratedPlatform, generate_platform

__all__ = ["GeneratedPlatform", "generate_platform"]
