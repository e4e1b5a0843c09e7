"""Issue 15: one key store for every signature; the LTI tool's keys leave the database

The tool now signs LTI messages with the school's keys (lms/signing.py: PEM files under
instance/keys, published at /lti/jwks.json and /.well-known/jwks.json). Platforms look a
tool's key up by its kid in that JWK set, so the keys once kept here are not carried over:
nothing they signed outlives a launch or a token request.

Revision ID: 3d0d700d9c38
Revises: fad5ca050e3b
Create Date: 2026-12-04 18:12:23.829552

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '3d0d700d9c38'
down_revision = 'fad5ca050e3b'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('lti_tool_key')


def downgrade():
    op.create_table('lti_tool_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_tool_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_tool_key_kid'))
    )
