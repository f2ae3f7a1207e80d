"""facts: the fact register (subscriptions, product authorisations, agreements, bound successors ...)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fact_register',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('pack_id', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=True, comment='the person; NULL for a fact about a party'),
    sa.Column('fact', sa.String(length=32), nullable=False, comment='subscribed, product_authorized, member, transfer_informed, consent_by_recipient, successor_bound or agreement'),
    sa.Column('arg', sa.String(length=64), nullable=False, comment="what it is about (a service, an agreement kind); '' if nothing"),
    sa.Column('party', sa.String(length=64), nullable=True, comment='the recipient or successor it concerns, if any'),
    sa.Column('action', sa.String(length=16), nullable=False, comment='recorded or revoked'),
    sa.Column('reference', sa.String(length=200), nullable=False, comment='the document or system record behind it'),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_register')),
    comment='facts that unlock a protection and that the engine cannot see elsewhere; append-only, latest wins'
    )
    with op.batch_alter_table('fact_register', schema=None) as batch_op:
        batch_op.create_index('ix_fact_register_subject', ['pack_id', 'subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fact_register', schema=None) as batch_op:
        batch_op.drop_index('ix_fact_register_subject')
    op.drop_table('fact_register')
