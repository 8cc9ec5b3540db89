"""Readers and writers. All unit and CRS conversion of input data happens here."""

from siteplan.io.atomic import atomic_directory, atomic_path, atomic_write_bytes, atomic_write_text
from siteplan.io.orlib import read_orlib_scp

__all__ = [
    "atomic_directory",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_orlib_scp",
]
