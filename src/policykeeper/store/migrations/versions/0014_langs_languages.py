"""requests and subjects: the language the person uses (for the mails about a request, and notices to them), encrypted

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_REQUEST = ("the language the person made the request in (every mail about it is written in it): AES-GCM under the "
            "request key; NULL when none was said")
_SUBJECT = ("the language the person last used with us (notices to many people are written in it): AES-GCM under "
            "the subject's data key; NULL when unknown")


def upgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.LargeBinary(), nullable=True, comment=_REQUEST))
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.LargeBinary(), nullable=True, comment=_SUBJECT))


def downgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('language')
