"""deletion: a data key per person and category (record_keys), records.key_id and legal_hold_ref

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_keys',
    sa.Column('id', sa.String(length=32), nullable=False, comment='random; journalled as rk:<id> once destroyed'),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False,
              comment="the group's data key, wrapped by the subject's key"),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_record_keys_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_keys')),
    sa.UniqueConstraint('subject_id', 'category', name=op.f('uq_record_keys_subject_id_category')),
    comment="one data key per person and category: deleting part of a person's data destroys that part's key"
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold_ref', sa.String(length=120), nullable=True,
                                      comment='the legal matter a hold is for (no personal data)'))
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True,
                                      comment="the record group's data key (record_keys); NULL: the subject's own key "
                                              "(before 0010)"))
        batch_op.create_index('ix_records_key', ['key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_key')
        batch_op.drop_column('key_id')
        batch_op.drop_column('legal_hold_ref')
    op.drop_table('record_keys')
