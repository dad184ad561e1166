#!/usr/bin/env bash
# Make a throwaway PostgreSQL server available for the test suite and print
#   export TELEGENT_TEST_PG_DSN=postgresql://...
# on stdout (everything else goes to stderr), so CI can do: eval "$(bash .ci/postgres.sh)".
#
# Idempotent: a cluster this script started earlier (same TELEGENT_PG_DIR) that is still
# running is reused. Installs the distribution's PostgreSQL when its binaries are missing
# (needs root on Debian/Ubuntu). The cluster is for tests only: trust authentication on
# 127.0.0.1 and fsync off, because its data is thrown away.
set -euo pipefail

PG_DIR="${TELEGENT_PG_DIR:-/tmp/telegent-test-pg}"
PG_PORT="${TELEGENT_PG_PORT:-55432}"
PG_DB="${TELEGENT_PG_DB:-telegent_test}"
PG_SUPERUSER=postgres

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # The newest major version the distribution installed (Debian keeps them side by side).
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
        echo "$d"
    fi
}

BINDIR=$(find_bindir)
if [[ -z "$BINDIR" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL binaries not found and not root: install the 'postgresql' package first"
        exit 1
    fi
    log "installing PostgreSQL from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BINDIR=$(find_bindir)
    if [[ -z "$BINDIR" ]]; then
        log "PostgreSQL installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
        exit 1
    fi
fi

# initdb refuses to run as root, so as root the cluster belongs to the 'postgres' user.
if [[ $(id -u) -eq 0 ]]; then
    RUN_AS=(runuser -u postgres --)
    OWNER=postgres
else
    RUN_AS=()
    OWNER=$(id -un)
fi

port_in_use() {
    # A successful TCP connect means something already listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

DATA="$PG_DIR/data"
running=no
if [[ -f "$DATA/postmaster.pid" ]] && "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    running=yes
    # Line 4 of postmaster.pid is the port the running server listens on.
    PG_PORT=$(sed -n 4p "$DATA/postmaster.pid")
    log "reusing the running cluster in $DATA on port $PG_PORT"
fi

if [[ $running == no ]]; then
    mkdir -p "$PG_DIR"
    chown "$OWNER" "$PG_DIR"
    chmod 700 "$PG_DIR"
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        log "initdb in $DATA ($BINDIR)"
        "${RUN_AS[@]}" "$BINDIR/initdb" -D "$DATA" -U "$PG_SUPERUSER" --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
            || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 50); do
        if ! port_in_use "$PG_PORT"; then break; fi
        PG_PORT=$((PG_PORT + 1))
    done
    log "starting on 127.0.0.1:$PG_PORT"
    "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2 || { tail -n 50 "$PG_DIR/server.log" >&2; exit 1; }
fi

for _ in $(seq 1 60); do
    if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then break; fi
    sleep 0.5
done
"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { log "server does not accept connections"; exit 1; }

PSQL=("$BINDIR/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -v ON_ERROR_STOP=1 -qtA)
if [[ $("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") != 1 ]]; then
    log "creating database $PG_DB"
    "${PSQL[@]}" -c "CREATE DATABASE $PG_DB" >&2
fi

echo "export TELEGENT_TEST_PG_DSN=postgresql://$PG_SUPERUSER@127.0.0.1:$PG_PORT/$PG_DB"
