"""Password hashes, and the bounded pool that computes them.

New hashes are argon2id (memory-hard, from argon2-cffi) with OWASP's
minimum parameters (19 MiB, 2 passes, 1 lane): about 0.1 s of one core.
Hashes stored by earlier releases (PBKDF2-SHA256) are still accepted and
replaced by argon2id at the user's next successful login.

Hashing never runs on the database's threads: a flood of wrong logins
would otherwise hold the one SQLite thread (or the four PostgreSQL ones)
and stall every query, the IVR's included.  :class:`HashingPool` has its
own threads and a cap on the logins waiting for them; past the cap a
login is refused at once (:class:`HashingBusy`) rather than queued.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import os
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _ARGON2.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2id or the old PBKDF2 form)."""
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        scheme, rounds, salt_hex, digest_hex = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex),
                                     int(rounds))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def needs_rehash(stored: str) -> bool:
    """True for hashes of an older scheme or weaker parameters (upgrade at login)."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@cache
def dummy_hash() -> str:
    """A hash no password matches in practice: checked for unknown users so that
    a wrong username takes as long as a wrong password."""
    return _ARGON2.hash("unknown-user-dummy-password")


class HashingBusy(Exception):
    """Too many logins are already waiting for the hashing pool."""


class HashingPool:
    """Threads of their own for password hashing, at most ``workers`` hashes at a
    time and at most ``max_waiting`` more waiting."""

    def __init__(self, workers: int | None = None, max_waiting: int = 64) -> None:
        # Half the cores: a flood of logins must leave CPU to the event loop
        # and the database (argon2 releases the GIL, so each thread is a core).
        workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="password-hash")
        self._slots = asyncio.Semaphore(workers)
        self._max_waiting = max_waiting
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
        if self._waiting >= self._max_waiting:
            raise HashingBusy("too many logins at once; try again in a second")
        self._waiting += 1
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            self._waiting -= 1

    async def verify(self, password: str, stored: str | None) -> bool:
        """Check ``password``; an unknown user (``stored`` None) costs the same and fails."""
        if stored is None:
            await self._run(verify_password, password, dummy_hash())
            return False
        ok: bool = await self._run(verify_password, password, stored)
        return ok

    async def hash(self, password: str) -> str:
        result: str = await self._run(hash_password, password)
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=True)
