"""Fixtures for the NLP tests: the shared Traffy data (read at test time) and its held-out tickets."""

from __future__ import annotations

import random

import pytest

from bot.nlp.dataset import DEFAULT_DATA, read_examples, split_of


@pytest.fixture(scope="session")
def traffy_examples():
    if not DEFAULT_DATA.exists():
        pytest.skip(f"shared data not found at {DEFAULT_DATA}")
    return read_examples(DEFAULT_DATA)


@pytest.fixture(scope="session")
def heldout_sample(traffy_examples):
    """A fixed sample of test-split tickets (never trained or calibrated on): 500 from the 2022 export and
    every other-source ticket, so the newer-ticket figure is measured on all of them."""
    test = [e for e in traffy_examples if split_of(e.ticket_id) == "test"]
    export = [e for e in test if e.from_2022_export]
    other = [e for e in test if not e.from_2022_export]
    return random.Random(8).sample(export, 500) + other
