"""Issue 20: an LTI login remembers its target link

Revision ID: 62c4e512af97
Revises: 58519e324a45
Create Date: 2026-12-04 18:55:37.211540

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '62c4e512af97'
down_revision = '58519e324a45'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        # Logins already under way (ten minutes at most) get an empty target: they can no
        # longer complete, and are started again from the LMS.
        batch_op.add_column(sa.Column('target_link_uri', sa.String(length=1000), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('lti_login_state', schema=None) as batch_op:
        batch_op.drop_column('target_link_uri')

