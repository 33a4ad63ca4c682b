# shellcheck shell=bash
# Functions shared by test.sh, run.sh and .ci/run for running MailMesh on a machine without a
# container engine: package installation and private RabbitMQ nodes from Debian's
# rabbitmq-server package. Source it; it defines functions and constants only.

RMQ_BIN=/usr/lib/rabbitmq/bin

# Every node gets its own HOME (and so its own Erlang cookie) inside its data directory, so nodes
# never depend on, or race to create, the cookie of the system-wide rabbitmq account.
rmq_home() { printf '%s/home' "$1"; }

rmq_installed() { [[ -x $RMQ_BIN/rabbitmq-server && -x $RMQ_BIN/rabbitmqctl ]]; }

# True when something listens on the TCP port, on any address.
port_in_use() { [[ -n $(ss -Htln "sport = :$1") ]]; }

# Prints a random free port below Linux's ephemeral range (32768+), so that an outgoing
# connection cannot take it over while a broker is briefly stopped. Ports given as arguments
# are avoided too.
pick_free_port() {
    local port tries
    for ((tries = 0; tries < 500; tries++)); do
        port=$((20000 + RANDOM % 12000))
        [[ " $* " == *" $port "* ]] && continue
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    echo "no free TCP port found in 20000-31999" >&2
    return 1
}

# rmq_ctl NODE DIR ARGS...: rabbitmqctl against a node whose data lives in DIR.
rmq_ctl() {
    local node=$1 dir=$2
    shift 2
    runuser -u rabbitmq -- env HOME="$(rmq_home "$dir")" "$RMQ_BIN/rabbitmqctl" -n "$node" "$@"
}

# rmq_prepare DIR: data directory owned by rabbitmq, with a cookie made once and kept.
rmq_prepare() {
    local dir=$1 home
    home=$(rmq_home "$dir")
    mkdir -p "$home"
    if [[ ! -s $home/.erlang.cookie ]]; then
        head -c 24 /dev/urandom | base32 | tr -d '=\n' >"$home/.erlang.cookie"
        chmod 400 "$home/.erlang.cookie"
    fi
    chown rabbitmq:rabbitmq "$dir" "$home" "$home/.erlang.cookie"
}

# rmq_launch NODE DIR PORT DIST_PORT CONFIG [OWNER_PID]
# Starts the node in the background as the rabbitmq user and sets RMQ_PID. Output goes to
# DIR/out.log. With OWNER_PID, a watchdog stops the node and deletes DIR once that process is
# gone, so a killed test run leaves neither a broker nor its data behind.
rmq_launch() {
    local node=$1 dir=$2 port=$3 dist=$4 config=$5 owner=${6:-}
    # The wrapper runs with SIGINT ignored (it is a background job), so Ctrl-C in the terminal
    # reaches only the scripts, which then shut the node down in order. It runs the node from its
    # data directory, where the rabbitmq user may write (Erlang puts crash dumps in the cwd).
    # shellcheck disable=SC2016
    local wrapper='
        exec </dev/null >>"$1" 2>&1
        cd "${1%/*}"
        "$0" &
        server=$!
        while [ -n "$2" ] && kill -0 "$server" 2>/dev/null; do
            if [ ! -d "/proc/$2" ]; then
                echo "owner process $2 is gone, stopping the node"
                kill -TERM "$server"
                orphaned=1
                break
            fi
            sleep 1
        done
        wait "$server"
        status=$?
        if [ -n "$orphaned" ]; then
            rm -rf -- "${1%/*}"
        fi
        exit "$status"'
    runuser -u rabbitmq -- env \
        HOME="$(rmq_home "$dir")" \
        RABBITMQ_NODENAME="$node" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$port" \
        RABBITMQ_DIST_PORT="$dist" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/node.pid" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_CONFIG_FILE="$config" \
        bash -c "$wrapper" "$RMQ_BIN/rabbitmq-server" "$dir/out.log" "$owner" &
    # shellcheck disable=SC2034 # read by the sourcing script
    RMQ_PID=$!
}

# rmq_await NODE DIR PID TIMEOUT_SECONDS: waits until the node has fully booted. Fails early
# when the launched process (PID) exits, e.g. because a port was taken.
rmq_await() {
    local node=$1 dir=$2 pid=$3 timeout=$4 started=$SECONDS
    # await_startup gives up at once while the node has not yet registered with epmd, so it is
    # retried until the node is up or its process has died.
    until rmq_ctl "$node" "$dir" -q await_startup --timeout 10 >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "RabbitMQ node $node exited during startup; last lines of $dir/out.log:" >&2
            tail -n 25 "$dir/out.log" >&2 || true
            echo >&2
            return 1
        fi
        if ((SECONDS - started >= timeout)); then
            echo "RabbitMQ node $node did not start within ${timeout}s; last lines of" \
                "$dir/out.log:" >&2
            tail -n 25 "$dir/out.log" >&2 || true
            echo >&2
            return 1
        fi
        sleep 1
    done
}

# rmq_stop NODE DIR PID: graceful shutdown, falling back to signals if the node does not answer.
rmq_stop() {
    local node=$1 dir=$2 pid=${3:-} i
    if ! rmq_ctl "$node" "$dir" -q shutdown >/dev/null 2>&1 && [[ -s $dir/node.pid ]]; then
        kill -TERM "$(cat "$dir/node.pid")" 2>/dev/null || true
    fi
    [[ -n $pid ]] || return 0
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "RabbitMQ node $node ignored shutdown, killing it" >&2
        pkill -KILL -P "$pid" 2>/dev/null || true
        if [[ -s $dir/node.pid ]]; then kill -KILL "$(cat "$dir/node.pid")" 2>/dev/null || true; fi
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# install_packages PKG...: installs whatever is missing, quietly, without letting the packages
# start their system services (a system broker would take port 5672, postfix port 25).
install_packages() {
    local pkg missing=() guard=/usr/sbin/policy-rc.d added_guard=
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    echo "installing: ${missing[*]}"
    if [[ ! -e $guard ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$guard"
        chmod 755 "$guard"
        added_guard=1
    fi
    local log status=0
    log=$(mktemp)
    {
        apt-get update -qq &&
            echo 'postfix postfix/main_mailer_type select No configuration' |
            debconf-set-selections &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "${missing[@]}"
    } >"$log" 2>&1 || status=$?
    [[ -n $added_guard ]] && rm -f "$guard"
    if ((status)); then
        cat "$log" >&2
        echo "package installation failed (exit $status)" >&2
    fi
    rm -f "$log"
    return "$status"
}
