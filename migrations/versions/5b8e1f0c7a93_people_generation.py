"""people generation: the page cache's third area, for signed-in users' own pages

Revision ID: 5b8e1f0c7a93
Revises: 05dde25104ee
Create Date: 2026-12-07 02:20:00

"""

from alembic import op

revision = "5b8e1f0c7a93"
down_revision = "05dde25104ee"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite has no sequences: its generations stay in the cache_generations table.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE IF NOT EXISTS cache_generation_people")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS cache_generation_people")
