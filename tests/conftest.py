"""Shared test helpers."""

import pytest


@pytest.fixture
def refuses():
    """Check one entry of a module's bad-input catalogue.

    ``refuses(call, exc, words, *args)`` calls ``call(*args)`` and requires it to raise ``exc``
    with a message that contains every string in ``words`` (the function, the argument, the value).
    """

    def check(call, exc, words, *args):
        with pytest.raises(exc) as info:
            call(*args)
        for word in words:
            assert word in str(info.value), (word, str(info.value))

    return check
