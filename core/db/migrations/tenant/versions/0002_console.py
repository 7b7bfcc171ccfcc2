"""the agent console: availability and capacity, session outcome and wait times,
messages, invite codes, customer tokens, canned responses, the session timeline

Revision ID: 0002_console
Revises: 0001_tenant
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_console'
down_revision = '0001_tenant'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('availability', sa.String(length=16), nullable=False,
                                      server_default='offline'))
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=False, server_default=sa.text('3')))

    with op.batch_alter_table('support_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        # The queue (waiting, oldest first), an agent's active count, handle times,
        # history by outcome.
        batch_op.create_index('ix_support_sessions_state_waiting_since', ['state', 'waiting_since'], unique=False)
        batch_op.create_index('ix_support_sessions_agent_state', ['agent_id', 'state'], unique=False)
        batch_op.create_index('ix_support_sessions_ended_at', ['ended_at'], unique=False)
        batch_op.create_index('ix_support_sessions_outcome', ['outcome'], unique=False)

    op.create_table('session_messages',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('author_type', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.String(length=40), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['support_sessions.id'],
                            name=op.f('fk_session_messages_session_id_support_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_messages'))
    )
    with op.batch_alter_table('session_messages', schema=None) as batch_op:
        batch_op.create_index('ix_session_messages_session_created', ['session_id', 'created_at'], unique=False)

    op.create_table('invite_codes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['support_sessions.id'],
                            name=op.f('fk_invite_codes_session_id_support_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invite_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invite_codes_code_hash'))
    )
    with op.batch_alter_table('invite_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invite_codes_session_id'), ['session_id'], unique=False)

    op.create_table('customer_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('invite_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_customer_tokens_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['support_sessions.id'],
                            name=op.f('fk_customer_tokens_session_id_support_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_customer_tokens'))
    )
    with op.batch_alter_table('customer_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_tokens_session_id'), ['session_id'], unique=False)

    op.create_table('canned_responses',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('shortcut', sa.String(length=30), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    sa.UniqueConstraint('shortcut', name=op.f('uq_canned_responses_shortcut'))
    )

    op.create_table('session_timeline',
    sa.Column('event_id', sa.String(length=80), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=60), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_session_timeline'))
    )
    with op.batch_alter_table('session_timeline', schema=None) as batch_op:
        batch_op.create_index('ix_session_timeline_session_at', ['session_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('session_timeline', schema=None) as batch_op:
        batch_op.drop_index('ix_session_timeline_session_at')
    op.drop_table('session_timeline')
    op.drop_table('canned_responses')
    with op.batch_alter_table('customer_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_tokens_session_id'))
    op.drop_table('customer_tokens')
    with op.batch_alter_table('invite_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invite_codes_session_id'))
    op.drop_table('invite_codes')
    with op.batch_alter_table('session_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_session_messages_session_created')
    op.drop_table('session_messages')
    with op.batch_alter_table('support_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_support_sessions_outcome')
        batch_op.drop_index('ix_support_sessions_ended_at')
        batch_op.drop_index('ix_support_sessions_agent_state')
        batch_op.drop_index('ix_support_sessions_state_waiting_since')
        batch_op.drop_column('started_at')
        batch_op.drop_column('waiting_since')
        batch_op.drop_column('outcome')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('capacity')
        batch_op.drop_column('availability')
