"""Pages of the meetings area (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("meetings", __name__, template_folder="templates")
