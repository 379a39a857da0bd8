"""users.token_version (revoking, rejecting or moving a member invalidates older tokens);
members.moving_from (the community a move waiting for acceptance comes from);
signup_reviews (a public sign-up that collides with an existing ID number or phone waits for the
community's staff instead of telling the caller)

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
    with op.batch_alter_table("members") as batch:  # a move waiting for the new community's acceptance
        batch.add_column(sa.Column("moving_from", sa.Integer(), nullable=True))
    op.create_table(
        "signup_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), nullable=False, index=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signup_reviews")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("moving_from")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_version")
