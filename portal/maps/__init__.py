"""Maps drawn on the server, offline: routes and sites as SVG (pages) or vector drawing (PDF)."""
