"""unit reports keep their first report time; renewals of the commitments get their own column

Revision ID: reg0018
Revises: reg0002
Create Date: 2026-12-03 07:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'reg0018'
down_revision: Union[str, Sequence[str], None] = 'reg0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('unit_reports') as batch:
        batch.add_column(sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('unit_reports') as batch:
        batch.drop_column('renewed_at')
