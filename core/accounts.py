"""Users, roles, password hashing and login sessions.

Roles follow DOMAIN.md: agent (话务员), supervisor (班长/值班长),
department (承办单位 staffer or leader), admin.  Passwords are hashed with
argon2id (:mod:`core.passwords`); login sessions are random tokens
stored hashed, so a copy of the database gives no working token.

A login is three steps so that the slow hash never holds a database
thread: :func:`password_hash_for` (database), the check (the hashing
pool), then :func:`open_session` (database).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime
from core.passwords import hash_password

SESSION_LIFETIME = timedelta(hours=12)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DEPARTMENT = "department"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), default=None)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A supervisor's own phone (PJSIP/<endpoint>): rung for listen/whisper/barge.
    phone: Mapped[str | None] = mapped_column(String(48), default=None)


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthError(Exception):
    pass


def generate_password() -> str:
    return secrets.token_urlsafe(9)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    now: datetime,
    display_name: str | None = None,
    agent_id: int | None = None,
    department_id: int | None = None,
) -> User:
    role = Role(role)
    plain = username.replace("-", "").replace("_", "").replace(".", "")
    if not username or len(username) > 64 or not plain.isalnum():
        raise AuthError("username must be 1-64 letters, digits, '-', '_' or '.'")
    check_new_password(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AuthError(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        password_hash=hash_password(password),
        agent_id=agent_id,
        department_id=department_id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_hash_for(session: Session, username: str) -> str | None:
    """The stored hash of an active user, or None (unknown or disabled)."""
    user = session.scalar(select(User).where(User.username == username))
    return user.password_hash if user is not None and user.active else None


def open_session(session: Session, username: str, now: datetime,
                 upgraded_hash: str | None = None) -> tuple[User, str]:
    """After the password was checked: a new session token for ``username``.

    ``upgraded_hash`` replaces a stored hash of an older scheme."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:  # disabled between the check and now
        raise AuthError("wrong username or password")
    if upgraded_hash is not None:
        user.password_hash = upgraded_hash
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return user, token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def logout(session: Session, token: str) -> None:
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if row is not None:
        session.delete(row)


def end_sessions(session: Session, user_id: int) -> int:
    """Log a user out everywhere; returns how many sessions ended."""
    result = session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Disable (and log out everywhere) or enable a user."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(f"no user {user_id}")
    user.active = active
    if not active:
        end_sessions(session, user_id)
    return user


def set_password_hash(session: Session, user_id: int, password_hash: str) -> User:
    """A new password (hashed by the caller, off the database thread); every
    session of the user ends."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(f"no user {user_id}")
    user.password_hash = password_hash
    end_sessions(session, user_id)
    return user


def check_new_password(password: str) -> None:
    if len(password) < 8:
        raise AuthError("password must have at least 8 characters")
    if len(password) > 1024:
        raise AuthError("password must have at most 1024 characters")


def purge_expired_sessions(session: Session, now: datetime) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def session_count(session: Session, user_id: int) -> int:
    return len(session.scalars(select(LoginSession.id).where(
        LoginSession.user_id == user_id)).all())
