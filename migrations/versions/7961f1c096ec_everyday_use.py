"""everyday use: the guide who takes a group at a stop, a declined stop's replacement;
contest grades and outside judges

Revision ID: 7961f1c096ec
Revises: 9c4e2b7a1d58
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7961f1c096ec'
down_revision = "9c4e2b7a1d58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guide_name', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_reservations_replaced_by_id_reservations'), 'reservations', ['replaced_by_id'], ['id'])

    with op.batch_alter_table('contest_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade', sa.String(length=16), nullable=True))

    with op.batch_alter_table('contest_judges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('unit', sa.String(length=128), server_default='', nullable=False))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    with op.batch_alter_table('contest_judges', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('unit')
        batch_op.drop_column('name')

    with op.batch_alter_table('contest_entries', schema=None) as batch_op:
        batch_op.drop_column('grade')

    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reservations_replaced_by_id_reservations'), type_='foreignkey')
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('guide_name')
