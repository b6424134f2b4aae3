"""knowledge base: articles, their versions, the Chinese search index, the article an order used

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:00:00

The search index is outside the models (alembic check skips it, see env.py):
SQLite gets an FTS5 table kept by triggers, PostgreSQL a stored generated
tsvector column of the segmented text ('simple' configuration: the text is
already split into words by jieba) with a GIN index; stored, so ranking a
long transcript's many matches does not re-parse every article.
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PG_VECTOR = ("setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
             "setweight(to_tsvector('simple'::regconfig, search_body), 'D')")

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE kb_articles_fts USING fts5(search_title, search_body, "
    "content='kb_articles', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER kb_articles_fts_ai AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER kb_articles_fts_ad AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER kb_articles_fts_au AFTER UPDATE ON kb_articles BEGIN "
    "INSERT INTO kb_articles_fts(kb_articles_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO kb_articles_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
]


def upgrade() -> None:
    op.create_table('kb_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('keywords', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('search_title', sa.Text(), nullable=False),
    sa.Column('search_body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_kb_articles_created_by_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_kb_articles_department_id_departments')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_kb_articles_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles')),
    sa.UniqueConstraint('ref', name=op.f('uq_kb_articles_ref'))
    )
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_articles_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_articles_department_id'), ['department_id'], unique=False)
    op.create_table('kb_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('keywords', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('edited_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_versions_article_id_kb_articles')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_kb_article_versions_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kb_article_versions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_versions')),
    sa.UniqueConstraint('article_id', 'version', name=op.f('uq_kb_article_versions_article_id'))
    )
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_versions_article_id'), ['article_id'], unique=False)
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kb_article_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kb_article_version', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_work_orders_kb_article_id_kb_articles'), 'kb_articles', ['kb_article_id'], ['id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE kb_articles ADD COLUMN search_vector tsvector "
                   f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search_vector)")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search")
        op.execute("ALTER TABLE kb_articles DROP COLUMN IF EXISTS search_vector")
    else:
        for name in ('kb_articles_fts_ai', 'kb_articles_fts_ad', 'kb_articles_fts_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_orders_kb_article_id_kb_articles'), type_='foreignkey')
        batch_op.drop_column('kb_article_version')
        batch_op.drop_column('kb_article_id')
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_article_versions_article_id'))
    op.drop_table('kb_article_versions')
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_articles_department_id'))
        batch_op.drop_index(batch_op.f('ix_kb_articles_category'))
    op.drop_table('kb_articles')
