"""Importers that turn public data sets into creatorlens wire-format files."""

from creatorlens.importers.kuairand import KuaiRandFiles, convert_kuairand, import_kuairand

__all__ = ["KuaiRandFiles", "convert_kuairand", "import_kuairand"]
