#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster (Debian's `postgresql` package) on 127.0.0.1 for the storage
# tests and prints its URL: export TEST_DATABASE_URL=$(bash .ci/start-postgres.sh)
# Stop it with: pg_ctl -D <data dir printed on stderr> stop
set -euo pipefail
# A free port unless one is given: a cluster left running by an earlier run must not make this one fail.
PORT="${TEST_POSTGRES_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
DATA="$(mktemp -d /tmp/test-postgres.XXXXXX)"
# initdb refuses to run as root: run the cluster as the package's postgres user then.
as_owner=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$DATA"
  as_owner=(runuser -u postgres --)
fi
"${as_owner[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres --no-sync >/dev/null
"${as_owner[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, data in $DATA" >&2
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
