#!/usr/bin/env bash
# A project-owned PostgreSQL 15 + PostGIS cluster for the demo and the tests.
#
#   scripts/pgcluster.sh start        initialise (first time), configure and start the cluster
#   scripts/pgcluster.sh stop         stop it
#   scripts/pgcluster.sh status       say whether it runs
#   scripts/pgcluster.sh createdb DB  create database DB (owned by the application role, with
#                                     PostGIS) if it does not exist
#
# Data directory: var/pg/data inside the project (VISITMAP_PGDATA overrides); port 54329
# (VISITMAP_PGPORT overrides); it listens on 127.0.0.1 only.
#
# Authentication (rewritten at every start, so a cluster made by an older version of this script
# is brought up to date by the next `start`):
# - the superuser `postgres` connects only through a unix socket in var/pg/socket (mode 0700,
#   owned by the server's OS user), with peer authentication: only root and the server's OS user
#   (the one running this script when not root) can use it; over TCP it is rejected;
# - every other role connects over TCP to 127.0.0.1 with a password (scram-sha-256);
# - the application role `visitmap` (LOGIN, CREATEDB, not a superuser) owns the project's
#   databases; its random password is made once and kept in the libpq password file var/pgpass
#   (VISITMAP_PGPASSFILE overrides; mode 0600), which the Makefile passes as PGPASSFILE and
#   geo.db finds by itself;
# - PostGIS is created by the superuser in template1, so databases that `visitmap` creates
#   (createdb, the test suite's scratch databases) have it already.
# Commits are durable (synchronous_commit and fsync on): what a command reports as written
# survives a crash.
# PostgreSQL refuses to run as root: when invoked as root the server runs as the `postgres` user.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${VISITMAP_PGPORT:-54329}"
PGBIN="${VISITMAP_PGBIN:-/usr/lib/postgresql/15/bin}"
DATA="${VISITMAP_PGDATA:-$ROOT/var/pg/data}"
LOG="$(dirname "$DATA")/server.log"
PGPASS="${VISITMAP_PGPASSFILE:-$ROOT/var/pgpass}"
APP_ROLE=visitmap

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

# The OS user the server runs as, which peer authentication maps to the superuser.
owner_os_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

sock_dir() { printf '%s' "$(dirname "$DATA")/socket"; }

# psql as the superuser, through the private unix socket (peer authentication).
su_psql() {
  as_owner env PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(sock_dir)" -p "$PORT" -U postgres "$@"
}

# Write a file in the data directory as the server's OS user.
write_owned() { as_owner tee "$1" >/dev/null; }

prepare_socket_dir() {
  local sock
  sock="$(sock_dir)"
  # sun_path holds 107 bytes: the socket's name is .s.PGSQL.<port>
  [ $(( ${#sock} + 16 )) -le 107 ] \
    || die "the socket path $sock is too long for a unix socket; set VISITMAP_PGDATA to a shorter path"
  mkdir -p "$sock"
  if [ "$(id -u)" = 0 ]; then chown postgres "$sock"; fi
  chmod 700 "$sock"
}

# Settings and authentication, rewritten at every start (this is how an existing cluster made
# by an older version of this script, with trust authentication and synchronous_commit = off,
# is brought up to date).
write_config() {
  # postgresql.conf includes visitmap.conf at its end, so these win over older lines above.
  if ! grep -qx "include_if_exists = 'visitmap.conf'" "$DATA/postgresql.conf"; then
    printf "\n# the project's settings, rewritten by scripts/pgcluster.sh at every start\ninclude_if_exists = 'visitmap.conf'\n" \
      | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  fi
  # Older versions appended these; comment them out so that nobody reads them as in force.
  as_owner sed -i \
    -e "s/^synchronous_commit = off$/# synchronous_commit = off  (removed: commits are durable; see visitmap.conf)/" \
    -e "s/^unix_socket_directories = ''$/# unix_socket_directories = ''  (see visitmap.conf)/" \
    "$DATA/postgresql.conf"
  write_owned "$DATA/visitmap.conf" <<CONF
# Written by scripts/pgcluster.sh at every start: edits here are lost.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$(sock_dir)'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
# Durable commits: a commit is acknowledged only once it is on disk.
fsync = on
synchronous_commit = on
full_page_writes = on
jit = off
CONF
  write_owned "$DATA/pg_hba.conf" <<HBA
# Written by scripts/pgcluster.sh at every start: edits here are lost.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=visitmap_owner
host    all       postgres  127.0.0.1/32   reject
host    all       postgres  ::1/128        reject
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
HBA
  write_owned "$DATA/pg_ident.conf" <<IDENT
# Written by scripts/pgcluster.sh at every start: edits here are lost.
# MAPNAME         SYSTEM-USERNAME  PG-USERNAME
visitmap_owner    $(owner_os_user)         postgres
IDENT
}

# The application role's password: the one in the password file, or a new random one.
app_password() {
  local pw=""
  if [ -f "$PGPASS" ]; then
    pw=$(awk -F: -v port="$PORT" -v role="$APP_ROLE" \
      '$1 == "127.0.0.1" && $2 == port && $3 == "*" && $4 == role { print $5; exit }' "$PGPASS")
  fi
  if [ -z "$pw" ]; then
    pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  fi
  printf '%s' "$pw"
}

# Keep the password file's lines for other ports, and (re)write this port's, mode 0600.
write_pgpass() {
  local pw="$1" tmp
  mkdir -p "$(dirname "$PGPASS")"
  tmp="$PGPASS.tmp.$$"
  (
    umask 077
    if [ -f "$PGPASS" ]; then
      awk -F: -v port="$PORT" -v role="$APP_ROLE" '!($2 == port && $4 == role)' "$PGPASS"
    fi
    printf '127.0.0.1:%s:*:%s:%s\n' "$PORT" "$APP_ROLE" "$pw"
    printf 'localhost:%s:*:%s:%s\n' "$PORT" "$APP_ROLE" "$pw"
  ) >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$PGPASS"
}

# The application role, PostGIS in template1, and databases of older sessions (owned by the
# superuser) handed over to the application role. Idempotent.
ensure_roles() {
  local pw db
  pw=$(app_password)
  # The password goes through psql's standard input, never its command line (ps shows that).
  su_psql -d postgres <<SQL
\\set pw '$pw'
SELECT format('CREATE ROLE %I', '$APP_ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') \\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
              '$APP_ROLE', :'pw') \\gexec
-- a setting made with ALTER SYSTEM would win over visitmap.conf
ALTER SYSTEM RESET synchronous_commit;
ALTER SYSTEM RESET fsync;
SELECT pg_reload_conf() \\g /dev/null
SQL
  write_pgpass "$pw"
  su_psql -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
  for db in $(su_psql -d postgres -tA -c \
    "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'
       AND datdba = 'postgres'::regrole"); do
    echo "pgcluster: handing database $db over to role $APP_ROLE"
    hand_over "$db"
  done
}

# Make the application role own database $1 and everything in it that the superuser made
# (except what belongs to an extension, e.g. PostGIS).
hand_over() {
  su_psql -d "$1" <<SQL
CREATE EXTENSION IF NOT EXISTS postgis;
DO \$\$
DECLARE
  r record;
  su oid := 'postgres'::regrole;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS name,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                          ELSE 'TABLE' END AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relowner = su AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d   -- extension members
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
       AND NOT (c.relkind = 'S' AND EXISTS (   -- sequences of a column follow their table
                  SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO $APP_ROLE', r.kind, r.name);
  END LOOP;
  FOR r IN
    SELECT t.oid::regtype AS name, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typowner = su AND t.typtype IN ('e', 'd', 'r', 'c')
       AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO $APP_ROLE', r.kind, r.name);
  END LOOP;
  FOR r IN
    SELECT p.oid::regprocedure AS name
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proowner = su AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO $APP_ROLE', r.name);
  END LOOP;
  FOR r IN
    SELECT n.nspname AS name FROM pg_namespace n
     WHERE n.nspowner = su AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
       AND n.nspname NOT LIKE 'pg_%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO $APP_ROLE', r.name);
  END LOOP;
END
\$\$;
SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), '$APP_ROLE') \\gexec
SQL
}

# Fail loudly if commits are not durable after all (e.g. a per-database setting).
check_durable() {
  local got
  got=$(su_psql -d postgres -tA -c "SELECT current_setting('synchronous_commit') || ' ' || current_setting('fsync')")
  [ "$got" = "on on" ] || die "synchronous_commit/fsync are '$got', expected 'on on'"
}

cmd_start() {
  prepare_dirs
  prepare_socket_dir
  if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "pgcluster: initialising $DATA"
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  write_config
  if is_running; then
    if [ -S "$(sock_dir)/.s.PGSQL.$PORT" ]; then
      as_owner "$PGBIN/pg_ctl" -D "$DATA" reload >/dev/null
      echo "pgcluster: already running on 127.0.0.1:$PORT ($DATA); configuration reloaded"
    else
      # started by an older version of this script (no socket): the socket needs a restart
      echo "pgcluster: restarting the cluster to apply the new configuration"
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -m fast -w -t 60 restart >/dev/null \
        || { tail -n 20 "$LOG" >&2; die "the server did not restart (log: $LOG)"; }
    fi
  else
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 start >/dev/null \
      || { tail -n 20 "$LOG" >&2; die "the server did not start (log: $LOG)"; }
  fi
  ensure_roles
  check_durable
  echo "pgcluster: running on 127.0.0.1:$PORT ($DATA); role $APP_ROLE, password file $PGPASS"
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
  [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name must be letters, digits and _: $db"
  prepare_dirs
  local exists
  exists=$(su_psql -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [ "$exists" != 1 ]; then
    su_psql -d postgres -c "CREATE DATABASE \"$db\" OWNER $APP_ROLE"
    echo "pgcluster: created database $db (owner $APP_ROLE)"
  fi
  # PostGIS comes from template1; a database made before that gets it here.
  su_psql -d "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  createdb) [ -n "${2:-}" ] || die "usage: $0 createdb NAME"; cmd_createdb "$2" ;;
  *) die "usage: $0 start|stop|status|createdb NAME" ;;
esac
