"""Synthetic platform exports for demos, tests and benchmarks."""

from creatorlens.generate.platform import (
    GeneratedPlatform,
    GenerateError,
    generate_platform,
    prepare_output,
)

__all__ = ["GenerateError", "GeneratedPlatform", "generate_platform", "prepare_output"]
