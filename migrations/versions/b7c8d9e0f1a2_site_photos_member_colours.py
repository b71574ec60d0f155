"""site photos and member colours; a sync's history names the member, not the plugin key

Revision ID: b7c8d9e0f1a2
Revises: a5b6c7d8e9f0
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c8d9e0f1a2'
down_revision = 'a5b6c7d8e9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('colour', sa.String(length=7), server_default='', nullable=False))

    op.create_table('site_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('thumb_name', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('caption', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('width > 0 AND height > 0', name=op.f('ck_site_photos_size_positive')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_site_photos_site_id_teaching_sites'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_site_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_photos'))
    )
    with op.batch_alter_table('site_photos', schema=None) as batch_op:
        batch_op.create_index('ix_site_photos_site', ['site_id', 'position', 'id'], unique=False)

    # Entries written by a plugin sync named the plugin's key ("插件 songshan_base"): name
    # the member instead, as sync now does ("松山基地（插件同步）").
    op.execute(
        "UPDATE catalog_changes SET actor_name = ("
        " SELECT members.short_name || '（插件同步）' FROM members"
        " WHERE '插件 ' || members.plugin = catalog_changes.actor_name)"
        " WHERE actor_name IN (SELECT '插件 ' || plugin FROM members)"
    )


def downgrade():
    op.execute(
        "UPDATE catalog_changes SET actor_name = ("
        " SELECT '插件 ' || members.plugin FROM members"
        " WHERE members.short_name || '（插件同步）' = catalog_changes.actor_name)"
        " WHERE actor_name IN (SELECT short_name || '（插件同步）' FROM members)"
    )
    with op.batch_alter_table('site_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_site_photos_site')

    op.drop_table('site_photos')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('colour')
