"""a retried certificate issue (same Idempotency-Key) is one certificate

Revision ID: rec0002
Revises: rec0001
"""
from alembic import op
import sqlalchemy as sa

revision = 'rec0002'
down_revision = 'rec0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_certificates_issued_by_idem', ['issued_by', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certificates_issued_by_idem', type_='unique')
        batch_op.drop_column('idempotency_key')
