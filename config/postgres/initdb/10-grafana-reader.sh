#!/bin/sh
# Runs once, when the PostgreSQL container initialises an empty data directory (docker-entrypoint-initdb.d):
# creates the login role Grafana's data source uses. It may read logproc's tables, those the roles create
# later included, and change nothing; its statements are bounded so a heavy panel cannot hold the database.
# An existing data directory is left as it is: create the role by hand there (docs/grafana.md).
set -eu
: "${GRAFANA_DB_USER:=grafana_reader}"
: "${GRAFANA_DB_PASSWORD:?GRAFANA_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="$GRAFANA_DB_USER" -v password="$GRAFANA_DB_PASSWORD" \
  -v owner="$POSTGRES_USER" -v db="$POSTGRES_DB" <<'SQL'
create role :"reader" login password :'password';
alter role :"reader" set default_transaction_read_only = on;
alter role :"reader" set statement_timeout = '30s';
grant connect on database :"db" to :"reader";
grant usage on schema public to :"reader";
grant select on all tables in schema public to :"reader";
-- logproc's roles connect as the owner and create the tables and daily partitions after this runs.
alter default privileges for role :"owner" in schema public grant select on tables to :"reader";
SQL
