"""disclosures: the grounds stated for a share are kept whole, however many were stated

``ground`` held at most 64 characters, so on PostgreSQL a share whose grounds together were longer failed (SQLite
does not enforce the length). The engine accepts at most eight grounds, each a name of at most 64 characters
(``engine/_facts.py``), so the column is text.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.alter_column('ground', existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.alter_column('ground', existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=True)
