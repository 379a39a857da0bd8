"""signups: participant_role (residents join community activities; only members' attendance counts)

Revision ID: act0013_signup_participant_role
Revises: act0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "act0013_signup_participant_role"
down_revision: Union[str, Sequence[str], None] = "act0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("signups") as batch:
        batch.add_column(sa.Column("participant_role", sa.String(length=20), nullable=False,
                                   server_default="member"))


def downgrade() -> None:
    with op.batch_alter_table("signups") as batch:
        batch.drop_column("participant_role")
