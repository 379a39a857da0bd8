"""hours a member states at completion, within the menu item's bounds (#16)

Revision ID: dis0016
Revises: dis0002
"""
from alembic import op
import sqlalchemy as sa

revision = 'dis0016'
down_revision = 'dis0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('menu_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_hours', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('min_hours', sa.Float(), nullable=False, server_default='0.5'))
        batch_op.add_column(sa.Column('max_hours', sa.Float(), nullable=False, server_default='8'))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stated_hours', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('hours_source', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('hours_source')
        batch_op.drop_column('stated_hours')
    with op.batch_alter_table('menu_items', schema=None) as batch_op:
        batch_op.drop_column('max_hours')
        batch_op.drop_column('min_hours')
        batch_op.drop_column('default_hours')
