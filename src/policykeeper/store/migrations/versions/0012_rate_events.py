"""abuse limits: rate events shared by every server process

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False,
              comment='what is limited, e.g. signin:client or request:person'),
    sa.Column('key', sa.String(length=64), nullable=False, comment='keyed hash of who or what it is counted for'),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_events')),
    comment="recent sign-in codes, requests, resends and email changes, counted against the abuse limits (kept only "
            "as long as the limit's window; shared by every server process)"
    )
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.create_index('ix_rate_events_scope_key', ['scope', 'key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_events_scope_key')
    op.drop_table('rate_events')
