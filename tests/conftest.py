"""Shared fixtures: the real model and a real index of the seed articles, built once."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _name in [n for n in os.environ if n.startswith("RAG_")]:
    del os.environ[_name]  # the suite tests defaults, not the developer's environment

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory):
    from rag.settings import Settings

    return Settings(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def seed_pipeline(seed_settings):
    from rag.pipeline import Pipeline

    return Pipeline.load(seed_settings, show_progress=False)


@pytest.fixture(scope="session")
def embedder(seed_pipeline):
    return seed_pipeline.embedder


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session", params=["neural", "rules"])
def reader_pipeline(seed_pipeline, request):
    """The seed pipeline answering with each reader: the trained one and the rules."""
    return seed_pipeline.with_settings(reader=request.param)
