"""One shared Kiwi analyser: loading it costs ~1 s and ~100 MB, so every module reuses it."""

from functools import lru_cache

from kiwipiepy import Kiwi


@lru_cache(maxsize=1)
def get_kiwi() -> Kiwi:
    return Kiwi()
