"""Fixtures for the NLP tests: the shared Traffy data (read at test time) and its held-out tickets."""

from __future__ import annotations

import os
import random

import pytest

from bot.nlp.dataset import DEFAULT_DATA, read_examples, split_of


def require_shared_data() -> None:
    """Skip on a checkout without ../shared; in CI (``SIANG_REQUIRE_SERVICES=1``) a missing file is a failure,
    so the accuracy tests can never pass by not running."""
    if DEFAULT_DATA.exists():
        return
    message = f"shared data not found at {DEFAULT_DATA} (set SIANG_SHARED or lay out ../shared)"
    if os.environ.get("SIANG_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def traffy_examples():
    require_shared_data()
    return read_examples(DEFAULT_DATA)


@pytest.fixture(scope="session")
def heldout_sample(traffy_examples):
    """A fixed sample of test-split tickets (never trained or calibrated on): 500 from the 2022 export and
    every other-source ticket, so the newer-ticket figure is measured on all of them."""
    test = [e for e in traffy_examples if split_of(e.ticket_id) == "test"]
    export = [e for e in test if e.from_2022_export]
    other = [e for e in test if not e.from_2022_export]
    return random.Random(8).sample(export, 500) + other
