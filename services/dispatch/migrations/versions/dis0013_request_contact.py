"""requests: the resident's contact name and phone, address and preferred time (for the serving member)

Revision ID: dis0013_request_contact
Revises: dis0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "dis0013_request_contact"
down_revision: Union[str, Sequence[str], None] = "dis0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("contact_phone", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("preferred_time", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        for name in ("preferred_time", "address", "contact_phone", "contact_name"):
            batch.drop_column(name)
