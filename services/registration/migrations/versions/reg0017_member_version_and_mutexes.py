"""optimistic concurrency on members; a mutex row that keeps roster imports from interleaving

Revision ID: reg0017
Revises: reg0002
Create Date: 2026-12-01 23:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'reg0017'
down_revision: Union[str, Sequence[str], None] = 'reg0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('members', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    mutexes = op.create_table(
        'mutexes',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=32), nullable=True),
        sa.Column('held_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_mutexes')),
    )
    op.bulk_insert(mutexes, [{'name': 'roster_import', 'holder': None, 'held_until': None}])


def downgrade() -> None:
    op.drop_table('mutexes')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('version')
