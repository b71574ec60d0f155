"""site directory life cycle: proposals, change reviews, criteria, warnings, supervision visits; teacher loans

Revision ID: 9c4e2b7a1d58
Revises: a7d3c91e5b24
Create Date: 2026-12-06 22:52:43.328628

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4e2b7a1d58'
down_revision = "a7d3c91e5b24"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('teacher_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('owner_member_id', sa.Integer(), nullable=False),
    sa.Column('borrower_member_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending','confirmed','declined')", name=op.f('ck_teacher_loans_status')),
    sa.CheckConstraint('owner_member_id <> borrower_member_id', name=op.f('ck_teacher_loans_other_member')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_teacher_loans_ordered')),
    sa.ForeignKeyConstraint(['borrower_member_id'], ['members.id'], name=op.f('fk_teacher_loans_borrower_member_id_members')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_teacher_loans_decided_by_id_users')),
    sa.ForeignKeyConstraint(['owner_member_id'], ['members.id'], name=op.f('fk_teacher_loans_owner_member_id_members')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_teacher_loans_requested_by_id_users')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teachers.id'], name=op.f('fk_teacher_loans_teacher_id_teachers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teacher_loans'))
    )
    with op.batch_alter_table('teacher_loans', schema=None) as batch_op:
        batch_op.create_index('ix_teacher_loans_borrower', ['borrower_member_id', 'status', 'ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_teacher_loans_owner_member_id'), ['owner_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teacher_loans_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('assessment_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('weight >= 0 AND weight <= 100', name=op.f('ck_assessment_criteria_weight_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_criteria')),
    sa.UniqueConstraint('key', name=op.f('uq_assessment_criteria_key'))
    )
    op.create_table('directory_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_directory_events_actor_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_directory_events_site_id_teaching_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_events'))
    )
    with op.batch_alter_table('directory_events', schema=None) as batch_op:
        batch_op.create_index('ix_directory_events_site', ['site_id', 'id'], unique=False)

    op.create_table('site_change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f('ck_site_change_requests_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_site_change_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_site_change_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_site_change_requests_site_id_teaching_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_change_requests'))
    )
    with op.batch_alter_table('site_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_change_requests_site_id'), ['site_id'], unique=False)

    op.create_table('site_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('materials', sa.Text(), nullable=False),
    sa.Column('safety_notes', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision IN ('pending','admitted','returned')", name=op.f('ck_site_proposals_decision')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_site_proposals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_site_proposals_site_id_teaching_sites'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_site_proposals_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_proposals'))
    )
    with op.batch_alter_table('site_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_proposals_site_id'), ['site_id'], unique=False)

    op.create_table('site_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('on_suspend', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_note', sa.Text(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("on_suspend IN ('keep','cancel')", name=op.f('ck_site_warnings_on_suspend')),
    sa.CheckConstraint("status IN ('open','fixed','suspended')", name=op.f('ck_site_warnings_status')),
    sa.CheckConstraint('issued_on <= due_on', name=op.f('ck_site_warnings_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_site_warnings_created_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_site_warnings_site_id_teaching_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_warnings'))
    )
    with op.batch_alter_table('site_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_site_warnings_open_due', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_warnings_site_id'), ['site_id'], unique=False)

    op.create_table('supervision_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('site_ids', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_supervision_visits_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_visits'))
    )
    op.create_table('criterion_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_criterion_scores_score_range')),
    sa.ForeignKeyConstraint(['assessment_id'], ['site_assessments.id'], name=op.f('fk_criterion_scores_assessment_id_site_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_id'], ['assessment_criteria.id'], name=op.f('fk_criterion_scores_criterion_id_assessment_criteria')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion_scores')),
    sa.UniqueConstraint('assessment_id', 'criterion_id', name='uq_criterion_scores_pair')
    )
    with op.batch_alter_table('criterion_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_scores_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('supervision_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('fix', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('photo_name', sa.String(length=64), nullable=True),
    sa.Column('thumb_name', sa.String(length=64), nullable=True),
    sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open','done')", name=op.f('ck_supervision_findings_status')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_supervision_findings_done_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_supervision_findings_member_id_members')),
    sa.ForeignKeyConstraint(['site_id'], ['teaching_sites.id'], name=op.f('fk_supervision_findings_site_id_teaching_sites')),
    sa.ForeignKeyConstraint(['visit_id'], ['supervision_visits.id'], name=op.f('fk_supervision_findings_visit_id_supervision_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_findings'))
    )
    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_findings_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_supervision_findings_open_due', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_findings_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_findings_visit_id'), ['visit_id'], unique=False)

    # The default assessment criteria (portal.directory.assessment.DEFAULT_CRITERIA).
    criteria = sa.table(
        'assessment_criteria',
        sa.column('key', sa.String),
        sa.column('name', sa.String),
        sa.column('weight', sa.Integer),
        sa.column('position', sa.Integer),
        sa.column('active', sa.Boolean),
    )
    op.bulk_insert(criteria, [
        {'key': 'teaching_quality', 'name': '教学质量', 'weight': 30, 'position': 0, 'active': True},
        {'key': 'facilities', 'name': '设施条件', 'weight': 20, 'position': 1, 'active': True},
        {'key': 'guide_service', 'name': '讲解服务', 'weight': 20, 'position': 2, 'active': True},
        {'key': 'safety', 'name': '安全管理', 'weight': 15, 'position': 3, 'active': True},
        {'key': 'use', 'name': '使用情况', 'weight': 15, 'position': 4, 'active': True},
    ])

    with op.batch_alter_table('teaching_sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admission', sa.String(length=16), server_default='admitted', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_teaching_sites_admission'), "admission IN ('proposed','returned','admitted')"
        )



def downgrade():
    with op.batch_alter_table('teacher_loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teacher_loans_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_teacher_loans_owner_member_id'))
        batch_op.drop_index('ix_teacher_loans_borrower')

    op.drop_table('teacher_loans')

    with op.batch_alter_table('teaching_sites', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_teaching_sites_admission'), type_='check')
        batch_op.drop_column('admission')

    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_findings_visit_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_findings_site_id'))
        batch_op.drop_index('ix_supervision_findings_open_due')
        batch_op.drop_index(batch_op.f('ix_supervision_findings_member_id'))

    op.drop_table('supervision_findings')
    with op.batch_alter_table('criterion_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterion_scores_assessment_id'))

    op.drop_table('criterion_scores')
    op.drop_table('supervision_visits')
    with op.batch_alter_table('site_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_warnings_site_id'))
        batch_op.drop_index('ix_site_warnings_open_due')

    op.drop_table('site_warnings')
    with op.batch_alter_table('site_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_proposals_site_id'))

    op.drop_table('site_proposals')
    with op.batch_alter_table('site_change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_change_requests_site_id'))

    op.drop_table('site_change_requests')
    with op.batch_alter_table('directory_events', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_events_site')

    op.drop_table('directory_events')
    op.drop_table('assessment_criteria')
