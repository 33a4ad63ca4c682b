#!/usr/bin/env bash
# Runs the MailMesh test suite against a throwaway RabbitMQ node, then (for a whole run) the check
# of the compose stack's service settings (tests/stack/), and ends with one summary line:
#   tests: N passed, M failed[, K skipped]
# Arguments are passed on to `dotnet test`, e.g. ./test.sh --filter FullyQualifiedName~Spool
#
# MAILMESH_TEST_AMQP_URI, when already set, names a broker to use instead of starting one.
# Exit status: 0 all good; dotnet test's own status when it failed (build or tests);
# 2 the broker could not be set up; 3 no test ran at all.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
# shellcheck source=SCRIPTDIR/infra/local.sh
source infra/local.sh

work=$(mktemp -d /tmp/mailmesh-test.XXXXXX)
node=
node_pid=

cleanup() {
    if [[ -n $node_pid ]]; then
        echo "test.sh: stopping RabbitMQ node $node"
        rmq_stop "$node" "$work" "$node_pid"
        node_pid=
    fi
    rm -rf "$work"
}
trap cleanup EXIT
# Exiting from the signal traps runs the EXIT trap, so the broker goes away on Ctrl-C too.
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n ${MAILMESH_TEST_AMQP_URI:-} ]]; then
    echo "test.sh: using the broker given by MAILMESH_TEST_AMQP_URI"
else
    if ! rmq_installed; then
        echo "test.sh: RabbitMQ is not installed; install it with: apt-get install rabbitmq-server" >&2
        exit 2
    fi
    if ((EUID != 0)); then
        echo "test.sh: must run as root: the test broker runs as the rabbitmq user (via runuser)." >&2
        echo "test.sh: alternatively point MAILMESH_TEST_AMQP_URI at a running broker." >&2
        exit 2
    fi
    port=$(pick_free_port)
    dist_port=$(pick_free_port "$port")
    node=mailmesh-test-$$@localhost
    rmq_prepare "$work"
    # A copy, because the rabbitmq user may not be able to read inside the checkout (e.g. /root).
    install -o rabbitmq -g rabbitmq -m 644 infra/rabbitmq/rabbitmq.conf "$work/rabbitmq.conf"
    echo "test.sh: starting RabbitMQ node $node on 127.0.0.1:$port (data in $work)"
    # $$ as owner: if this script is killed outright, the node stops itself.
    rmq_launch "$node" "$work" "$port" "$dist_port" "$work/rabbitmq.conf" $$
    node_pid=$RMQ_PID
    rmq_await "$node" "$work" "$node_pid" 90 || exit 2
    echo "test.sh: RabbitMQ node $node is up"
    export MAILMESH_TEST_AMQP_URI="amqp://guest:guest@127.0.0.1:$port/"
fi

# The summary is parsed from the classic console output, so keep it plain and in English.
export MSBUILDTERMINALLOGGER=off DOTNET_CLI_UI_LANGUAGE=en DOTNET_NOLOGO=1
log=$work/dotnet-test.log
status=0
# tee ignores Ctrl-C so that dotnet test's own shutdown messages still reach the log and screen.
# With pipefail the pipeline fails with dotnet test's status.
dotnet test MailMesh.sln -c Release "$@" 2>&1 | (trap '' INT && tee "$log") || status=$?

# One line per test assembly, e.g.
#   Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total:    12, Duration: 1 s - X.dll
read -r passed failed skipped < <(
    sed -e 's/\x1b\[[0-9;]*m//g' -e 's/\r$//' "$log" | awk '
        /^[[:space:]]*(Passed|Failed)![[:space:]]+-[[:space:]]+Failed:/ {
            line = $0
            gsub(/[,:]/, " ", line)
            n = split(line, w, /[[:space:]]+/)
            for (i = 1; i < n; i++) {
                if (w[i] == "Failed") f += w[i + 1]
                else if (w[i] == "Passed") p += w[i + 1]
                else if (w[i] == "Skipped") s += w[i + 1]
            }
        }
        END { printf "%d %d %d\n", p, f, s }'
)

# The compose stack's MailMesh services, started from its env files against the same broker; only
# with the whole suite, since a filtered run is after particular tests.
if (($# == 0)) && ((status == 0)); then
    if tests/stack/check-compose-config.sh; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
fi

cleanup
trap - EXIT

summary="tests: $passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
if ((status == 0 && passed + failed == 0)); then
    echo "test.sh: no test ran (check the filter, or whether the test projects build)" >&2
    status=3
fi
echo "$summary"
exit "$status"
