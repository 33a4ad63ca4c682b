#!/usr/bin/env bash
# Runs MailMesh on this machine without containers: a local RabbitMQ node as the spool, then
# every MailMesh service in the foreground. Ctrl-C (or SIGTERM) stops the services, then the
# broker if this script started it.
#
# Environment:
#   MailMesh__RabbitMq__Uri   use this broker instead of starting the local one
#   MAILMESH_BROKER_PORT      AMQP port of the local broker (default 5672; distribution port
#                             is this plus 20000)
#   MailMesh__Ingress__Address, MailMesh__Ingress__Port   where the ingress listens
#                             (default 127.0.0.1:2525); any other MailMesh__* setting too
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
# shellcheck source=SCRIPTDIR/infra/local.sh
source infra/local.sh

# Started in this order, stopped together. A service is skipped until its project exists.
services=(MailMesh.Ingress MailMesh.Delivery)

# The local broker's data is the mail spool: it lives in the repository's var/ and survives runs.
broker_node=mailmesh@localhost
broker_dir=$PWD/var/rabbitmq
broker_pid=
service_pids=()
service_names=()

# shellcheck disable=SC2317 # reached through the EXIT trap
stop_all() {
    local i pid
    for pid in "${service_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    # Services finish the SMTP transactions in flight before exiting; give them time to.
    for ((i = 0; i < 30; i++)); do
        local alive=
        for pid in "${service_pids[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [[ -n $alive ]] || break
        sleep 1
    done
    for pid in "${service_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: pid $pid did not stop in time, killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    service_pids=()
    if [[ -n $broker_pid ]]; then
        echo "run.sh: stopping RabbitMQ node $broker_node"
        rmq_stop "$broker_node" "$broker_dir" "$broker_pid"
        broker_pid=
    fi
}
trap stop_all EXIT
trap 'echo; echo "run.sh: stopping"; exit 130' INT
trap 'echo "run.sh: stopping"; exit 143' TERM

start_local_broker() {
    if ! rmq_installed; then
        if ((EUID == 0)); then
            install_packages rabbitmq-server
        else
            echo "run.sh: RabbitMQ is not installed; install it with:" \
                "sudo apt-get install rabbitmq-server" >&2
            exit 1
        fi
    fi
    if ((EUID != 0)); then
        echo "run.sh: starting the local broker needs root (it runs as the rabbitmq user);" \
            "run as root, or set MailMesh__RabbitMq__Uri to a running broker" >&2
        exit 1
    fi

    local port=${MAILMESH_BROKER_PORT:-5672}
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 45535)); then
        echo "run.sh: MAILMESH_BROKER_PORT must be a port number up to 45535, got '$port'" >&2
        exit 1
    fi
    local dist=$((port + 20000))

    rmq_prepare "$broker_dir"
    # The node reads its configuration from the data directory, so that only that directory has
    # to be reachable by the rabbitmq user.
    install -o rabbitmq -g rabbitmq -m 644 infra/rabbitmq/rabbitmq.conf "$broker_dir/rabbitmq.conf"
    if ! runuser -u rabbitmq -- test -w "$broker_dir"; then
        echo "run.sh: the rabbitmq user cannot reach $broker_dir; make its parent directories" \
            "traversable (chmod o+x) or move the repository" >&2
        exit 1
    fi

    local status
    if status=$(rmq_ctl "$broker_node" "$broker_dir" -q status 2>/dev/null); then
        if ! grep -q "port: $port, protocol: amqp" <<<"$status"; then
            echo "run.sh: RabbitMQ node $broker_node is already running, but not on port $port;" \
                "stop it (rabbitmqctl -n $broker_node shutdown) or set MAILMESH_BROKER_PORT" >&2
            exit 1
        fi
        echo "run.sh: reusing the running RabbitMQ node $broker_node on 127.0.0.1:$port"
    else
        local p
        for p in "$port" "$dist"; do
            if port_in_use "$p"; then
                echo "run.sh: port $p is in use (a system rabbitmq-server? stop it with" \
                    "'service rabbitmq-server stop'), or choose other ports with MAILMESH_BROKER_PORT" >&2
                exit 1
            fi
        done
        echo "run.sh: starting RabbitMQ node $broker_node on 127.0.0.1:$port (spool in $broker_dir)"
        rmq_launch "$broker_node" "$broker_dir" "$port" "$dist" "$broker_dir/rabbitmq.conf"
        broker_pid=$RMQ_PID
        rmq_await "$broker_node" "$broker_dir" "$broker_pid" 90 || exit 1
        echo "run.sh: RabbitMQ node $broker_node is up"
    fi
    export MailMesh__RabbitMq__Uri="amqp://guest:guest@127.0.0.1:$port/"
}

if [[ -n ${MailMesh__RabbitMq__Uri:-} ]]; then
    # The user part may hold a password; keep it off the screen.
    echo "run.sh: using the broker at $(sed -E 's#//[^@/]*@#//***@#' <<<"$MailMesh__RabbitMq__Uri")"
else
    start_local_broker
fi

dotnet build MailMesh.sln -c Release -nologo -v minimal

for svc in "${services[@]}"; do
    [[ -f services/$svc/$svc.csproj ]] || continue
    out=services/$svc/bin/Release/net10.0
    if [[ ! -f $out/$svc.dll ]]; then
        echo "run.sh: $out/$svc.dll is missing after the build" >&2
        exit 1
    fi
    # The content root (where appsettings.json is read) is the output directory, but the
    # working directory stays the repo, so relative routes such as file:var/mailbox land in
    # the repo's var/.
    DOTNET_CONTENTROOT=$PWD/$out dotnet "$out/$svc.dll" &
    service_pids+=("$!")
    service_names+=("$svc")
    echo "run.sh: started $svc (pid $!)"
done
if ((${#service_pids[@]} == 0)); then
    echo "run.sh: no service project found under services/" >&2
    exit 1
fi

smtp_address=${MailMesh__Ingress__Address:-127.0.0.1}
smtp_port=${MailMesh__Ingress__Port:-2525}
[[ $smtp_address != 0.0.0.0 ]] || smtp_address=127.0.0.1
echo "run.sh: MailMesh accepts mail over SMTP at $smtp_address:$smtp_port, for example:"
echo "  swaks --server $smtp_address:$smtp_port --from alice@example.com --to bob@example.test"
echo "run.sh: mail for .test and localhost lands in var/mailbox/<domain>/<user>/new"
echo "run.sh: press Ctrl-C to stop"

# Any service ending on its own takes the others down with it: a half-running relay is
# worse than a stopped one, since it looks healthy from outside.
status=0
wait -n -p ended "${service_pids[@]}" || status=$?
for i in "${!service_pids[@]}"; do
    if [[ ${service_pids[i]} == "${ended:-}" ]]; then
        echo "run.sh: ${service_names[i]} exited with status $status, stopping" >&2
    fi
done
exit "$status"
