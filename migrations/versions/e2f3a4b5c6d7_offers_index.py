"""offers index: expire_offers() finds expired waiting-list offers without scanning reservations

Revision ID: e2f3a4b5c6d7
Revises: d1e2f3a4b5c6
Create Date: 2026-11-22 08:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e2f3a4b5c6d7'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_reservations_offered',
            ['offer_expires_at'],
            unique=False,
            postgresql_where=sa.text("status = 'offered'"),
            sqlite_where=sa.text("status = 'offered'"),
        )


def downgrade():
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_offered')
