"""Completion certificates (结业证书): one per trainee of a class, with a random serial."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.scheduling.models import TrainingClass
from portal.timeutil import UTCDateTime, utcnow
from portal.trainees.models import RosterEntry

CERTIFICATE_STATUSES = {
    "issued": _l("有效"),
    "withheld": _l("暂缓发放"),
    "revoked": _l("已撤销"),
}


class Certificate(db.Model):
    """A trainee's certificate for a class. The serial (not the row id) is what the printed
    QR code and the public verification page name; the name, unit and 学时 are kept as
    printed, so a later roster edit does not change an issued certificate."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("entry_id", name="uq_certificates_entry"),
        CheckConstraint("status IN ('issued','withheld','revoked')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    class_id: Mapped[int] = mapped_column(
        ForeignKey("training_classes.id", ondelete="CASCADE"), index=True
    )
    # A certificate outlives its roster line: removing the trainee later keeps it verifiable.
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128), default="")
    hours: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    training_class: Mapped[TrainingClass] = relationship()
    entry: Mapped[RosterEntry | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(CERTIFICATE_STATUSES.get(self.status, self.status))

    @property
    def masked_name(self) -> str:
        """The name as the public page shows it: first and (for 3+) last character."""
        name = self.name.strip()
        if len(name) <= 1:
            return name
        if len(name) == 2:
            return name[0] + "*"
        return name[0] + "*" * (len(name) - 2) + name[-1]
