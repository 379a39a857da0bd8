"""optimistic concurrency on periods: a stale close is resumed by one instance only

Revision ID: sco0017
Revises: sco0002
Create Date: 2026-12-01 23:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'sco0017'
down_revision: Union[str, Sequence[str], None] = 'sco0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('periods', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('periods') as batch:
        batch.drop_column('version')
