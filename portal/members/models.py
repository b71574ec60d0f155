"""Member institutions of the consortium and the state of the plugins that bring them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.specs import INSTITUTION_KINDS
from portal.timeutil import UTCDateTime, utcnow


class Member(db.Model):
    """A member institution (成员单位); created and updated by `flask portal sync`."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    plugin: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(256), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    contact_person: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(256), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Its colour on maps ("#rrggbb"); empty: one of the maps' palette.
    colour: Mapped[str] = mapped_column(String(7), default="", server_default="")
    # The office trusts this member's plugin: its new sites enter the directory admitted
    # (otherwise a site a plugin adds after its first sync enters as proposed, for review).
    trusted: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return str(INSTITUTION_KINDS.get(self.kind, self.kind))

    def __repr__(self) -> str:
        return f"<Member {self.key}>"


class PluginState(db.Model):
    """Per-deployment state of an installed plugin: enabled or not, last error, last sync.

    Kept in the database so that every worker process sees the same state.
    """

    __tablename__ = "plugin_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_hook: Mapped[str | None] = mapped_column(String(64))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PluginError(db.Model):
    """One fault of a plugin: when, in which hook, what went wrong (newest kept, see plugins.py)."""

    __tablename__ = "plugin_errors"
    __table_args__ = (Index("ix_plugin_errors_plugin_id", "plugin", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64))
    hook: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PluginPart(db.Model):
    """What a plugin adds to pages that does not change from one request to the next.

    Asked at ``flask portal sync`` (portal/members/parts.py) and kept, so that no page waits
    for a plugin: ``part`` is ``nav`` (menu entries, ``key`` a kind of user) or
    ``site_fields`` (``key`` a site id); ``items`` the plugin's answer as JSON.
    """

    __tablename__ = "plugin_parts"

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    items: Mapped[list] = mapped_column(JSON)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
