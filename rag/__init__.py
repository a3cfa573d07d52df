"""Offline Korean document Q&A: cleaned passages, hybrid dense + BM25 retrieval, extractive answers."""

__version__ = "0.1.0"
