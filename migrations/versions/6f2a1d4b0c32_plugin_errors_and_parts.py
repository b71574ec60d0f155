"""plugin errors and parts: a short fault history per plugin; menus and site fields kept at sync

Revision ID: 6f2a1d4b0c32
Revises: 5e1f0c3a9b21
Create Date: 2026-12-06 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6f2a1d4b0c32'
down_revision = '5e1f0c3a9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plugin_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('hook', sa.String(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_errors'))
    )
    with op.batch_alter_table('plugin_errors', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_errors_plugin_id', ['plugin', 'id'], unique=False)

    op.create_table('plugin_parts',
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('part', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('plugin', 'part', 'key', name=op.f('pk_plugin_parts'))
    )


def downgrade():
    op.drop_table('plugin_parts')
    with op.batch_alter_table('plugin_errors', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_errors_plugin_id')

    op.drop_table('plugin_errors')
