"""class form key: a double click on 登记培训班 registers one class

Revision ID: c4d5e6f7a8b9
Revises: 182dc9d21b70
Create Date: 2026-11-22 07:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d5e6f7a8b9'
down_revision = '182dc9d21b70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_classes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_training_classes_idempotency_key'), ['idempotency_key']
        )


def downgrade():
    with op.batch_alter_table('training_classes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_training_classes_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
