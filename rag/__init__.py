"""Offline Korean document Q&A: hybrid dense + BM25 retrieval, extractive quoted answers."""

__version__ = "0.1.0"
