"""Joint ownership (共建): co-owning members of teaching sites and courses.

Revision ID: 05dde25104ee
Revises: de1824064e9a
"""

import sqlalchemy as sa
from alembic import op

revision = "05dde25104ee"
down_revision = "de1824064e9a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_coowners",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_site_coowners_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["teaching_sites.id"],
            name=op.f("fk_site_coowners_site_id_teaching_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "member_id", name=op.f("pk_site_coowners")),
    )
    op.create_table(
        "course_coowners",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_coowners_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_course_coowners_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "member_id", name=op.f("pk_course_coowners")),
    )


def downgrade() -> None:
    op.drop_table("course_coowners")
    op.drop_table("site_coowners")
