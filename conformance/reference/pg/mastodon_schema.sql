-- The subset of Mastodon's PostgreSQL schema its streaming server reads (streaming/index.js of
-- 4.8.0-alpha.1, ../shared/notes/mastodon-streaming.md section 12), with the column names,
-- types, NOT NULL constraints, defaults, unique indexes and foreign keys of Mastodon's
-- db/schema.rb for those columns. Columns nothing here reads are left out. Idempotent: every
-- statement is IF NOT EXISTS, so loading it twice is harmless. Used by the reference server's
-- `init-db` command and by the self-tests; a real Mastodon database already has all of it.

CREATE TABLE IF NOT EXISTS accounts (
    id bigint PRIMARY KEY,
    username character varying DEFAULT ''::character varying NOT NULL,
    domain character varying,
    display_name character varying DEFAULT ''::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    silenced_at timestamp without time zone,
    suspended_at timestamp without time zone
);
CREATE UNIQUE INDEX IF NOT EXISTS index_accounts_on_username_and_domain_lower
    ON accounts (lower((username)::text), COALESCE(lower((domain)::text), ''::text));

CREATE TABLE IF NOT EXISTS user_roles (
    id bigserial PRIMARY KEY,
    name character varying DEFAULT ''::character varying NOT NULL,
    permissions bigint DEFAULT 0 NOT NULL,
    created_at timestamp(6) without time zone NOT NULL DEFAULT now(),
    updated_at timestamp(6) without time zone NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS users (
    id bigserial PRIMARY KEY,
    email character varying DEFAULT ''::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    disabled boolean DEFAULT false NOT NULL,
    chosen_languages character varying[],
    role_id bigint REFERENCES user_roles (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_users_on_email ON users (email);
CREATE INDEX IF NOT EXISTS index_users_on_account_id ON users (account_id);

CREATE TABLE IF NOT EXISTS oauth_access_tokens (
    id bigserial PRIMARY KEY,
    token character varying NOT NULL,
    refresh_token character varying,
    expires_in integer,
    revoked_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    scopes character varying,
    application_id bigint,
    resource_owner_id bigint REFERENCES users (id) ON DELETE CASCADE,
    last_used_at timestamp without time zone
);
CREATE UNIQUE INDEX IF NOT EXISTS index_oauth_access_tokens_on_token ON oauth_access_tokens (token);

CREATE TABLE IF NOT EXISTS lists (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title character varying DEFAULT ''::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    replies_policy integer DEFAULT 0 NOT NULL,
    exclusive boolean DEFAULT false NOT NULL
);

CREATE TABLE IF NOT EXISTS mutes (
    id bigserial PRIMARY KEY,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    hide_notifications boolean DEFAULT true NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at timestamp without time zone
);
CREATE UNIQUE INDEX IF NOT EXISTS index_mutes_on_account_id_and_target_account_id
    ON mutes (account_id, target_account_id);

CREATE TABLE IF NOT EXISTS blocks (
    id bigserial PRIMARY KEY,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri character varying
);
CREATE UNIQUE INDEX IF NOT EXISTS index_blocks_on_account_id_and_target_account_id
    ON blocks (account_id, target_account_id);

CREATE TABLE IF NOT EXISTS account_domain_blocks (
    id bigserial PRIMARY KEY,
    domain character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS index_account_domain_blocks_on_account_id_and_domain
    ON account_domain_blocks (account_id, domain);

CREATE TABLE IF NOT EXISTS custom_filters (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at timestamp without time zone,
    phrase text DEFAULT ''::text NOT NULL,
    context character varying[] DEFAULT '{}'::character varying[] NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    action integer DEFAULT 0 NOT NULL
);

CREATE TABLE IF NOT EXISTS custom_filter_keywords (
    id bigserial PRIMARY KEY,
    custom_filter_id bigint NOT NULL REFERENCES custom_filters (id) ON DELETE CASCADE,
    keyword text DEFAULT ''::text NOT NULL,
    whole_word boolean DEFAULT true NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);

CREATE TABLE IF NOT EXISTS settings (
    id bigserial PRIMARY KEY,
    var character varying NOT NULL,
    value text,
    created_at timestamp without time zone,
    updated_at timestamp without time zone
);
CREATE UNIQUE INDEX IF NOT EXISTS index_settings_on_var ON settings (var);
