"""optimistic concurrency: a version column on requests, wishes and opinions

Revision ID: dis0017
Revises: dis0002
Create Date: 2026-12-01 23:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'dis0017'
down_revision: Union[str, Sequence[str], None] = 'dis0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ('requests', 'wishes', 'opinions')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('version')
