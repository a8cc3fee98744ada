#!/usr/bin/env bash
# Start (or reuse) the suite's own PostgreSQL and Redis on private ports under .services/.
# A developer's own servers are untouched. Works as root too (initdb refuses root, so the
# cluster is owned by the 'postgres' system user, or one we create).
#   scripts/services.sh start   start what is not running, print the env to use
#   scripts/services.sh stop    stop both
#   scripts/services.sh env     print DATABASE_URL/REDIS_URL lines
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SERVICES="$ROOT/.services"
PG_PORT="${AUTHCORE_PG_PORT:-55432}"
REDIS_PORT="${AUTHCORE_REDIS_PORT:-56379}"
PG_DATA="$SERVICES/pg/data"
PG_SOCKET="$SERVICES/pg/socket"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

as_pg_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  # Reuse a suite PostgreSQL already answering on the port (another checkout's, for one).
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    return
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$SERVICES/pg"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$SERVICES/pg"
    # the owner must be able to reach the directory
    chmod o+x "$ROOT" "$SERVICES" 2>/dev/null || true
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    echo "services: initialising PostgreSQL in .services/pg"
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA" -U authcore --auth=trust -E UTF8 >/dev/null
  fi
  as_pg_owner mkdir -p "$PG_SOCKET"
  echo "services: starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$SERVICES/pg/server.log" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
  as_pg_owner "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U authcore -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='authcore'" | grep -q 1 \
    || as_pg_owner "$PG_BIN/createdb" -h "$PG_SOCKET" -p "$PG_PORT" -U authcore authcore
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
  mkdir -p "$SERVICES/redis"
  echo "services: starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --dir "$SERVICES/redis" --logfile "$SERVICES/redis/server.log" \
    --pidfile "$SERVICES/redis/redis.pid"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "services: Redis did not start" >&2; exit 1
}

print_env() {
  echo "DATABASE_URL=postgres://authcore@127.0.0.1:$PG_PORT/authcore"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  stop)
    as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
