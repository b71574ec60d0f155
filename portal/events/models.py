"""Models of the events area."""

from __future__ import annotations
