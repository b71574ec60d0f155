"""generation sequences: on PostgreSQL the page cache's generations are sequences

Revision ID: a5b6c7d8e9f0
Revises: f3a4b5c6d7e8
Create Date: 2026-11-22 08:55:00

"""
from alembic import op


revision = 'a5b6c7d8e9f0'
down_revision = 'f3a4b5c6d7e8'
branch_labels = None
depends_on = None

SEQUENCES = ('cache_generation_catalogue', 'cache_generation_schedule')


def upgrade():
    # SQLite has no sequences: its generations stay in the cache_generations table.
    if op.get_bind().dialect.name == 'postgresql':
        for name in SEQUENCES:
            op.execute(f'CREATE SEQUENCE IF NOT EXISTS {name}')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in SEQUENCES:
            op.execute(f'DROP SEQUENCE IF EXISTS {name}')
