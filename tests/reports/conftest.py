from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.db import Database
from hotline.migrate import upgrade


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated, empty database (each test seeds what it needs)."""
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.close()
