"""members keep a masked ID number for volunteer certificates (#16)

Revision ID: reg0016
Revises: reg0002
"""
from alembic import op
import sqlalchemy as sa

revision = 'reg0016'
down_revision = 'reg0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_masked', sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('id_number_masked')
