"""requests: what the person asked (a note, a correction's item and new value) and staff notes, encrypted

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'content', sa.LargeBinary(), nullable=True,
            comment="what the person asked (a note, the item to correct and its new value) and staff notes: AES-GCM "
                    "JSON under the request key; NULL when nothing was said"))


def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('content')
