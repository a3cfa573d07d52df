"""The parts of ``eval/bench.py``, one benchmark per module; ``common`` holds what they share."""
