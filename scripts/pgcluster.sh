#!/usr/bin/env bash
# A project-owned PostgreSQL 15 + PostGIS cluster for the demo and the tests.
#
#   scripts/pgcluster.sh start        initialise (first time) and start the cluster
#   scripts/pgcluster.sh stop         stop it
#   scripts/pgcluster.sh status       say whether it runs
#   scripts/pgcluster.sh createdb DB  create database DB if it does not exist
#
# Data directory: var/pg/data inside the project (VISITMAP_PGDATA overrides); port 54329
# (VISITMAP_PGPORT overrides); it listens on 127.0.0.1 only, with trust authentication for the
# local superuser `postgres`, so it is for a single-user development machine, not production.
# PostgreSQL refuses to run as root: when invoked as root the server runs as the `postgres` user.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${VISITMAP_PGPORT:-54329}"
PGBIN="${VISITMAP_PGBIN:-/usr/lib/postgresql/15/bin}"
DATA="${VISITMAP_PGDATA:-$ROOT/var/pg/data}"
LOG="$(dirname "$DATA")/server.log"

die() { echo "pgcluster: $*" >&2; exit 1; }
[ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 not found in $PGBIN (install postgresql-15; 'make system-deps' does)"

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

prepare_dirs() {
  mkdir -p "$(dirname "$DATA")"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (it comes with the postgresql-15 package)"
    chown postgres "$(dirname "$DATA")"
    # The server user must be able to reach the data directory. A clone under a private home
    # directory (e.g. /root, mode 700) is not reachable: fall back to a directory under /var/tmp.
    if ! runuser -u postgres -- test -w "$(dirname "$DATA")"; then
      if [ -z "${VISITMAP_PGDATA:-}" ]; then
        local key
        key=$(printf '%s' "$ROOT" | md5sum | cut -c1-8)
        DATA="/var/tmp/visitmap-pg-$key/data"
        LOG="/var/tmp/visitmap-pg-$key/server.log"
        echo "pgcluster: $ROOT is not reachable by user postgres; using $DATA" >&2
        mkdir -p "$(dirname "$DATA")"
        chown postgres "$(dirname "$DATA")"
      else
        die "user postgres cannot write $(dirname "$DATA")"
      fi
    fi
  fi
}

is_running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

cmd_start() {
  prepare_dirs
  if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "pgcluster: initialising $DATA"
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >/dev/null
    cat >>"$DATA/postgresql.conf" <<CONF
# visitmap project cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
synchronous_commit = off
jit = off
CONF
  fi
  if is_running; then
    echo "pgcluster: already running on 127.0.0.1:$PORT ($DATA)"
    return 0
  fi
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$LOG" >&2; die "the server did not start (log: $LOG)"; }
  echo "pgcluster: running on 127.0.0.1:$PORT ($DATA)"
}

cmd_stop() {
  prepare_dirs
  if is_running; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    echo "pgcluster: stopped"
  else
    echo "pgcluster: not running"
  fi
}

cmd_status() {
  prepare_dirs
  if is_running; then echo "pgcluster: running on 127.0.0.1:$PORT ($DATA)"; else echo "pgcluster: stopped"; exit 3; fi
}

cmd_createdb() {
  local db="$1"
  local exists
  exists=$("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [ "$exists" != 1 ]; then
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$db"
    echo "pgcluster: created database $db"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  createdb) [ -n "${2:-}" ] || die "usage: $0 createdb NAME"; cmd_createdb "$2" ;;
  *) die "usage: $0 start|stop|status|createdb NAME" ;;
esac
