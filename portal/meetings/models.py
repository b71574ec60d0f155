"""Models of the meetings area."""

from __future__ import annotations
