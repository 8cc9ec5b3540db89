"""Readers and writers. All unit and CRS conversion of input data happens here."""

from siteplan.io.atomic import atomic_directory, atomic_path, atomic_write_bytes, atomic_write_text
from siteplan.io.steinlib import SteinLibInstance, read_steinlib

__all__ = [
    "atomic_directory",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_steinlib",
    "SteinLibInstance",
]
