"""Attachments on orders (photos, documents): type and size limits, stored
in the recordings' shared directory (every instance reads it), listed on
the order, purged with retention unless the order is open (retention.py).

The type is decided by the file's first bytes, not by what the browser
says: JPEG, PNG, PDF, and Word/Excel (OOXML: a ZIP).  At most
``HOTLINE_ATTACHMENT_MAX_MB`` (default 10) per file, ``MAX_PER_ORDER`` per
order.  Files go to ``<recordings>/attachments/<order number>/<random>.<ext>``;
the row keeps the path relative to the recordings directory.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worksheets.lifecycle import LifecycleError, _log
from worksheets.models import WorkOrder
from worksheets.order_models import OrderAttachment

# content type -> (magic bytes, extension)
TYPES: dict[str, tuple[bytes, str]] = {
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "application/pdf": (b"%PDF-", ".pdf"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        (b"PK\x03\x04", ".docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        (b"PK\x03\x04", ".xlsx"),
}
MAX_PER_ORDER = 20
DIRECTORY = "attachments"


def sniff(content_type: str, head: bytes) -> str:
    """The extension for a file declared ``content_type`` whose first bytes are
    ``head``; raises ``LifecycleError('bad_type')``."""
    known = TYPES.get(content_type.split(";")[0].strip().lower())
    if known is None:
        raise LifecycleError("bad_type", "attach a photo (JPEG, PNG) or a document (PDF, "
                                         "Word, Excel)")
    magic, extension = known
    if not head.startswith(magic):
        raise LifecycleError("bad_type", f"the file is not a {extension[1:].upper()} file")
    return extension


def clean_name(name: str) -> str:
    name = Path(name.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or "attachment"


def check_room(session: Session, order: WorkOrder) -> None:
    if order.status == "merged":
        raise LifecycleError("wrong_status", f"work order {order.number} was merged; attach "
                                             "to the order it was merged into")
    count = session.scalar(select(func.count()).select_from(OrderAttachment).where(
        OrderAttachment.order_id == order.id)) or 0
    if count >= MAX_PER_ORDER:
        raise LifecycleError("too_many", f"at most {MAX_PER_ORDER} attachments per order")


def new_path(order: WorkOrder, extension: str) -> str:
    return f"{DIRECTORY}/{order.number}/{secrets.token_hex(12)}{extension}"


def add(session: Session, order: WorkOrder, *, filename: str, content_type: str, size: int,
        path: str, user_id: int | None, now: datetime) -> OrderAttachment:
    row = OrderAttachment(order_id=order.id, filename=clean_name(filename),
                          content_type=content_type, size=size, path=path,
                          uploaded_by=user_id, uploaded_at=now)
    session.add(row)
    session.flush()
    _log(session, order, "attached", now, user_id, f"{row.filename} ({size} bytes)")
    return row


def listed(session: Session, order_id: int) -> list[dict[str, Any]]:
    return [to_dict(a) for a in session.scalars(select(OrderAttachment).where(
        OrderAttachment.order_id == order_id).order_by(OrderAttachment.id))]


def to_dict(a: OrderAttachment) -> dict[str, Any]:
    return {"id": a.id, "order_id": a.order_id, "filename": a.filename,
            "content_type": a.content_type, "size": a.size,
            "uploaded_by": a.uploaded_by, "uploaded_at": a.uploaded_at.isoformat(),
            "url": f"/api/work-orders/{a.order_id}/attachments/{a.id}"}


def full_path(recordings_dir: Path, relative: str) -> Path | None:
    """The file, only if it is inside the recordings directory.

    ``relative`` may also be absolute (call recordings are stored so); a
    ``..`` or a symbolic link that leads out of the directory is None.
    Attachments' downloads and retention's purges both ask this.
    """
    root = recordings_dir.resolve()
    full = (root / relative).resolve()
    return full if full.is_relative_to(root) else None
