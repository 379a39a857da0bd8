"""users.token_version: revoking, rejecting or moving a member invalidates the tokens issued before

Revision ID: reg0011
Revises: reg0002
"""
import sqlalchemy as sa
from alembic import op

revision = "reg0011"
down_revision = "reg0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
