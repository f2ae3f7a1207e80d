"""organisation: the privacy department and staff training sessions (KAMOER-41)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_department',
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False, comment="the department's name, e.g. Personal Information Protection"),
    sa.Column('contact', sa.String(length=254), nullable=False, comment="the department's functional address, never a person's"),
    sa.Column('roles', sa.JSON(), nullable=False, comment='[{role, count}]: role titles and head counts; no staff names'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pack_id', name=op.f('pk_privacy_department')),
    comment='the privacy department the pack promises (one per pack); who is in it by role, never by name'
    )
    op.create_table('training_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('attendance', sa.Integer(), nullable=False, comment='how many staff attended (a count, no names)'),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions')),
    comment='staff security and privacy training sessions the pack promises'
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_training_sessions_pack_id', ['pack_id', 'held_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_training_sessions_pack_id')
    op.drop_table('training_sessions')
    op.drop_table('privacy_department')
