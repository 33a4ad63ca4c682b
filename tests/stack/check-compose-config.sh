#!/usr/bin/env bash
# Checks that the compose stack's MailMesh services work as configured, without a container engine:
# starts the built ingress and delivery worker with exactly the settings their containers get
# (infra/compose/ingress.env, infra/compose/delivery.env), sends a message through them, and looks
# for it at a stand-in for the demo mailbox. Only what exists inside the compose network alone is
# replaced: the broker (MAILMESH_TEST_AMQP_URI), the listen addresses and ports (free loopback
# ones), the collector (a loopback port nobody listens on) and mailpit (Postfix's smtp-sink); and
# the check's spool queues are its own (MailMesh__Spool__QueuePrefix).
# Also checks the parts of the stack that can be checked here: the health check port of
# docker-compose.yml and the queries of the Grafana dashboard.
#
#   MAILMESH_TEST_AMQP_URI=amqp://guest:guest@127.0.0.1:5672/ tests/stack/check-compose-config.sh
#
# Needs a Release build (dotnet build MailMesh.sln -c Release), swaks, smtp-sink and promtool.
# Every wait is bounded and the whole check gives up after 100 s; whatever it started is stopped on
# exit. Exit status: 0 passed, 1 a check failed, 2 it could not run.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
# shellcheck source=SCRIPTDIR/../../infra/local.sh
source infra/local.sh

me=check-compose-config
say() { echo "$me: $*"; }
fail() {
    echo "$me: FAILED: $*" >&2
    exit 1
}
unable() {
    echo "$me: cannot run: $*" >&2
    exit 2
}

# --- What the check needs -------------------------------------------------------------------------

amqp_uri=${MAILMESH_TEST_AMQP_URI:-}
[[ -n $amqp_uri ]] || unable "MAILMESH_TEST_AMQP_URI names no broker (test.sh sets it)"
for tool in dotnet swaks smtp-sink promtool ss timeout; do
    command -v "$tool" >/dev/null || unable "$tool is missing (.ci/run installs what the tests need)"
done

ingress_out=services/MailMesh.Ingress/bin/Release/net10.0
delivery_out=services/MailMesh.Delivery/bin/Release/net10.0
for dll in "$ingress_out/MailMesh.Ingress.dll" "$delivery_out/MailMesh.Delivery.dll"; do
    [[ -f $dll ]] || unable "$dll is missing; build first: dotnet build MailMesh.sln -c Release"
done

compose_file=docker-compose.yml
ingress_env=infra/compose/ingress.env
delivery_env=infra/compose/delivery.env
dashboard=infra/grafana/dashboards/mailmesh.json

# --- Cleanup --------------------------------------------------------------------------------------

work=$(mktemp -d "/tmp/$me.XXXXXX")
pids=()
watchdog=

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
    local pid i alive
    [[ -z $watchdog ]] || kill "$watchdog" 2>/dev/null || true
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    # The services finish what they hold and leave the broker in order; smtp-sink just stops.
    for ((i = 0; i < 20; i++)); do
        alive=
        for pid in "${pids[@]}"; do
            if kill -0 "$pid" 2>/dev/null; then alive=1; fi
        done
        [[ -n $alive ]] || break
        sleep 0.5
    done
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A hung step must not hang the test run: past the limit the check ends itself, and the EXIT trap
# stops the services.
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep 100 &
    sleeper=$!
    wait "$sleeper"
    echo "$me: FAILED: still running after 100 s, giving up" >&2
    kill -TERM $$
) &
watchdog=$!

# --- The configuration as compose gives it to the containers --------------------------------------

# load_env FILE: the file's settings as KEY=VALUE lines. Refuses what compose implementations read
# differently (quotes, $, #, spaces in values), so that the check runs with what the containers get.
load_env() {
    local file=$1 line n=0
    [[ -f $file ]] || fail "$file is missing"
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        if ! [[ $line =~ ^[A-Za-z_][A-Za-z0-9_.]*=[^[:space:]\"\'\$#]*$ ]]; then
            fail "$file:$n: not a plain KEY=value line: $line"
        fi
        echo "$line"
    done <"$file"
}

# env_value FILE KEY: the value the file gives KEY; fails when it gives none.
env_value() {
    local value
    value=$(load_env "$1" | sed -n "s/^$2=//p" | tail -n 1)
    [[ -n $value ]] || fail "$1 does not set $2"
    echo "$value"
}

for env_file in "$ingress_env" "$delivery_env"; do
    # Read once here, where a refusal ends the check; later reads are in subshells.
    load_env "$env_file" >/dev/null
    grep -Eq "^[[:space:]]*env_file:[[:space:]]*${env_file//./\\.}[[:space:]]*\$" "$compose_file" ||
        fail "$compose_file does not load $env_file"
done

# The engine's health check asks the port the env files give the HTTP endpoint.
mapfile -t health_ports < <(grep -o '/dev/tcp/127\.0\.0\.1/[0-9]*' "$compose_file" | sed 's#.*/##' | sort -u)
((${#health_ports[@]} == 1)) ||
    fail "$compose_file: expected one health check port, found: ${health_ports[*]}"
for env_file in "$ingress_env" "$delivery_env"; do
    http_port=$(env_value "$env_file" MailMesh__Http__Port)
    [[ $http_port == "${health_ports[0]}" ]] ||
        fail "$env_file: MailMesh__Http__Port is $http_port;" \
            "the health check of $compose_file asks ${health_ports[0]}"
done
say "compose loads both env files; its health check asks their HTTP port ${health_ports[0]}"

# Every query of the dashboard must be valid PromQL: promtool parses them as recording rules, with
# Grafana's interval variables replaced by a fixed range.
# shellcheck disable=SC2016 # the $__ names are Grafana's, not the shell's
mapfile -t queries < <(sed -n 's/^[[:space:]]*"expr": "\(.*\)",\{0,1\}$/\1/p' "$dashboard" |
    sed -e 's/\\"/"/g' -e 's/\$__rate_interval/5m/g' -e 's/\$__range/1h/g')
query_count=$(grep -c '"expr":' "$dashboard")
((${#queries[@]} > 0 && ${#queries[@]} == query_count)) ||
    fail "$dashboard: read ${#queries[@]} of its $query_count queries; keep one \"expr\" a line"
{
    echo "groups:"
    echo "  - name: dashboard"
    echo "    rules:"
    for i in "${!queries[@]}"; do
        echo "      - record: dashboard:query$i"
        echo "        expr: '${queries[i]//\'/\'\'}'"
    done
} >"$work/dashboard-rules.yml"
promtool check rules "$work/dashboard-rules.yml" >"$work/promtool.log" 2>&1 ||
    fail "$dashboard has a query promtool rejects: $(cat "$work/promtool.log")"
say "the dashboard's ${#queries[@]} queries are valid PromQL"

# --- Stand-ins on loopback ------------------------------------------------------------------------

sink_port=$(pick_free_port)
smtp_port=$(pick_free_port "$sink_port")
ingress_http=$(pick_free_port "$sink_port" "$smtp_port")
delivery_http=$(pick_free_port "$sink_port" "$smtp_port" "$ingress_http")
# Nothing listens there: the exports fail at once instead of looking up a name outside the machine.
otlp_port=$(pick_free_port "$sink_port" "$smtp_port" "$ingress_http" "$delivery_http")

# smtp-sink stands in for mailpit and keeps each message it takes as a file. Run as root it must
# drop to another user, which then writes the files.
sink_dir=$work/mailbox
mkdir -p "$sink_dir"
sink_user=()
if ((EUID == 0)); then
    chmod 711 "$work"
    chown nobody "$sink_dir"
    sink_user=(-u nobody)
fi
smtp-sink "${sink_user[@]}" -d "$sink_dir/mail." "127.0.0.1:$sink_port" 16 >"$work/smtp-sink.log" 2>&1 &
pids+=("$!")
sink_pid=$!
for ((i = 0; i < 50; i++)); do
    port_in_use "$sink_port" && break
    kill -0 "$sink_pid" 2>/dev/null || fail "smtp-sink exited: $(cat "$work/smtp-sink.log")"
    sleep 0.2
done
port_in_use "$sink_port" || fail "smtp-sink is not listening on 127.0.0.1:$sink_port after 10 s"

# --- The services ---------------------------------------------------------------------------------

# settings FILE OVERRIDE...: the file's settings with the overrides (KEY=VALUE) put in place of the
# file's own values. An override must replace a setting the file has, so that a renamed setting
# cannot make it silently useless; the mailpit smarthost is replaced wherever a route names it.
# Whatever else names a host must already be on loopback.
settings() {
    local file=$1 line key value override found lines
    shift
    mapfile -t lines < <(load_env "$file")
    for override in "$@"; do
        found=
        for line in "${lines[@]}"; do
            [[ ${line%%=*} == "${override%%=*}" ]] && found=1
        done
        [[ -n $found ]] || fail "$file no longer sets ${override%%=*}"
    done
    for line in "${lines[@]}"; do
        key=${line%%=*}
        value=${line#*=}
        for override in "$@"; do
            [[ ${override%%=*} == "$key" ]] && value=${override#*=}
        done
        value=${value//\/\/mailpit:1025/\/\/127.0.0.1:$sink_port}
        found=$(grep -Eo '^[a-z][a-z0-9+.-]*://([^/@]*@)?(\[[^]]*\]|[^/:?]+)' <<<"$value" |
            sed -E 's#^.*//([^@]*@)?##') || true
        if [[ -n $found && ! $found =~ ^(127\.[0-9.]+|localhost|\[::1\])$ ]] || [[ $value == 0.0.0.0 ]]; then
            fail "$file: $key=$value would reach beyond loopback here; teach $me its stand-in"
        fi
        echo "$key=$value"
    done
}

settings "$ingress_env" \
    "MailMesh__RabbitMq__Uri=$amqp_uri" \
    "MailMesh__Ingress__Address=127.0.0.1" \
    "MailMesh__Ingress__Port=$smtp_port" \
    "MailMesh__Http__Address=127.0.0.1" \
    "MailMesh__Http__Port=$ingress_http" \
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$otlp_port" >"$work/ingress.settings"
settings "$delivery_env" \
    "MailMesh__RabbitMq__Uri=$amqp_uri" \
    "MailMesh__Http__Address=127.0.0.1" \
    "MailMesh__Http__Port=$delivery_http" \
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$otlp_port" >"$work/delivery.settings"
mapfile -t ingress_settings <"$work/ingress.settings"
mapfile -t delivery_settings <"$work/delivery.settings"

# The one setting that is not the containers': the check's spool is its own, so that it neither
# takes nor leaves mail in the queues of whoever else uses the broker.
spool_prefix=MailMesh__Spool__QueuePrefix=mailmesh-stack-check

# start NAME OUTDIR SETTING...: runs the service from its build output as its image does (the
# content root holding appsettings.json), in a working directory of its own, with no environment
# but the settings (and PATH, HOME), so that nothing of the caller's MailMesh__* or OTEL_* variables
# leaks in.
start() {
    local name=$1 out=$PWD/$2 dir=$work/$1
    shift 2
    mkdir -p "$dir"
    local base=(PATH="$PATH" HOME="${HOME:-/root}")
    [[ -z ${DOTNET_ROOT:-} ]] || base+=(DOTNET_ROOT="$DOTNET_ROOT")
    (cd "$dir" && exec env -i "${base[@]}" DOTNET_CONTENTROOT="$out" "$@" \
        dotnet "$out/$name.dll" >"$work/$name.log" 2>&1) &
    pids+=("$!")
}

# What the ASP.NET Core base image sets too: its default web port, which in the containers is the
# HTTP port of the env files, and the flag the runtime reads to know it runs in a container.
image_env=(DOTNET_RUNNING_IN_CONTAINER=true)

start MailMesh.Ingress "$ingress_out" "${image_env[@]}" "ASPNETCORE_HTTP_PORTS=$ingress_http" \
    "${ingress_settings[@]}" "$spool_prefix"
ingress_pid=${pids[-1]}
start MailMesh.Delivery "$delivery_out" "${image_env[@]}" "ASPNETCORE_HTTP_PORTS=$delivery_http" \
    "${delivery_settings[@]}" "$spool_prefix"
delivery_pid=${pids[-1]}

# http_get PORT PATH: the body of http://127.0.0.1:PORT/PATH; fails unless it answers 200 within 5 s.
# Bash speaks HTTP/1.0 itself, as the compose health check does, so no HTTP client is needed.
http_get() {
    local fd response status
    { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&"$fd"
    response=$(timeout 5 cat <&"$fd") || status=timeout
    exec {fd}>&-
    [[ -z ${status:-} ]] || return 1
    read -r _ status _ <<<"$response"
    [[ $status == 200 ]] || return 1
    printf '%s\n' "${response#*$'\r\n\r\n'}"
}

show_logs() {
    local name
    for name in MailMesh.Ingress MailMesh.Delivery; do
        echo "--- last lines of $name's log" >&2
        # Cut, because a stack trace is one line.
        tail -n 30 "$work/$name.log" | cut -c 1-300 >&2 || true
    done
}

# await_ready NAME PID PORT SECONDS: until /health/ready answers 200.
await_ready() {
    local name=$1 pid=$2 port=$3 limit=$((SECONDS + $4))
    until http_get "$port" /health/ready >/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_logs
            fail "$name exited during startup"
        fi
        if ((SECONDS >= limit)); then
            show_logs
            fail "$name was not ready on 127.0.0.1:$port/health/ready within $4 s"
        fi
        sleep 0.5
    done
}
await_ready MailMesh.Ingress "$ingress_pid" "$ingress_http" 40
await_ready MailMesh.Delivery "$delivery_pid" "$delivery_http" 30
say "ingress and delivery started from the env files; /health/ready answers 200 on both"

for port in "$ingress_http" "$delivery_http"; do
    http_get "$port" /health/live >/dev/null ||
        fail "/health/live on 127.0.0.1:$port did not answer 200"
done

# --- One message through the stack ----------------------------------------------------------------

# One recipient per route of delivery.env: the .test domains, localhost and the default route.
recipients=(someone@example.test postmaster@localhost someone@example.net)
if ! swaks --server "127.0.0.1:$smtp_port" --timeout 20 \
    --from sender@example.test --to "$(IFS=,; echo "${recipients[*]}")" \
    --header "Subject: compose configuration check" >"$work/swaks.log" 2>&1; then
    cat "$work/swaks.log" >&2
    show_logs
    fail "the ingress did not accept the message"
fi
queue_id=$(grep -o 'queued as [0-9A-Z]\{16\}' "$work/swaks.log" | head -n 1 | cut -d' ' -f3) ||
    true
[[ -n $queue_id ]] || fail "no queue id in the ingress's reply: $(grep '250 ' "$work/swaks.log")"
say "the ingress accepted the message as $queue_id"

# An SMTP refusal, so the refusal counter the dashboard shows is exported too.
exec {smtp}<>"/dev/tcp/127.0.0.1/$smtp_port" || fail "cannot connect to 127.0.0.1:$smtp_port"
read -r -t 10 greeting <&"$smtp" || fail "no greeting from the ingress within 10 s"
printf 'EHLO check.localhost\r\nNOT-A-COMMAND\r\nQUIT\r\n' >&"$smtp"
timeout 10 cat <&"$smtp" >"$work/refusal.log" || true
exec {smtp}>&-
[[ $greeting == 220* ]] || fail "the ingress greeted with: $greeting"
grep -q '^500 ' "$work/refusal.log" ||
    fail "an unknown command was not refused with 500: $(cat "$work/refusal.log")"

# Delivered means: each recipient in a file of smtp-sink, in the copy carrying this queue id, and
# the worker's log line for it.
limit=$((SECONDS + 30))
arrived() {
    local copies
    copies=$(grep -lsF "X-Rcpt-Args: <$1>" "$sink_dir"/mail.* | xargs -r grep -lF "$queue_id") || true
    [[ -n $copies ]] && grep -qF "$queue_id: delivered to <$1>" "$work/MailMesh.Delivery.log"
}
for rcpt in "${recipients[@]}"; do
    until arrived "$rcpt"; do
        if ((SECONDS >= limit)); then
            show_logs
            fail "<$rcpt> of $queue_id did not arrive at the stand-in for mailpit within 30 s"
        fi
        kill -0 "$delivery_pid" 2>/dev/null || fail "the delivery worker exited"
        sleep 0.5
    done
done
say "all ${#recipients[@]} recipients arrived at the stand-in for mailpit"

# Tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): the log lines about the message name its trace, and
# the worker continues the trace the ingress began.
# trace_of LOG: the trace ids named by the log's lines about the message.
trace_of() {
    grep -F "$queue_id" "$1" | grep -o '=> TraceId:[0-9a-f]\{32\}' | sort -u | sed 's/.*://'
}
ingress_trace=$(trace_of "$work/MailMesh.Ingress.log")
[[ $ingress_trace =~ ^[0-9a-f]{32}$ ]] ||
    fail "the ingress's log lines about $queue_id name no trace, or several: '$ingress_trace'"
delivery_trace=$(trace_of "$work/MailMesh.Delivery.log")
[[ $delivery_trace == "$ingress_trace" ]] ||
    fail "the worker's log lines about $queue_id name trace '$delivery_trace', not $ingress_trace"
say "ingress and worker log $queue_id in one trace, $ingress_trace"

# --- Metrics --------------------------------------------------------------------------------------

# dashboard_gaps: the metrics and labels the dashboard's queries use that neither service exports
# (job and instance are the collector's, le is every histogram's). Reads both services' /metrics.
dashboard_gaps() {
    local name label
    http_get "$ingress_http" /metrics >"$work/ingress.metrics" || echo "(/metrics of the ingress)"
    http_get "$delivery_http" /metrics >"$work/delivery.metrics" || echo "(/metrics of the worker)"
    cat "$work/ingress.metrics" "$work/delivery.metrics" >"$work/all.metrics"
    # Metric names are what is left once grouping clauses and label matchers are taken out.
    for name in $(printf '%s\n' "${queries[@]}" | sed -E -e 's/by \([^)]*\)//g' -e 's/[a-z_]+=~?"[^"]*"//g' |
        { grep -o 'mailmesh_[a-z_]*' || true; } | sort -u); do
        grep -Eq "^${name%_bucket}(_bucket)?[{ ]" "$work/all.metrics" || echo "$name"
    done
    for label in $(printf '%s\n' "${queries[@]}" |
        { grep -oE 'by \([a-z_, ]+\)|[{,][a-z_]+=~?"' || true; } |
        sed -E -e 's/^by \(//' -e 's/\)$//' -e 's/^[{,]//' -e 's/=~?"$//' -e 's/, */\n/g' | sort -u); do
        case $label in job | instance | le) continue ;; esac
        grep -Eq "[{,]$label=\"" "$work/all.metrics" || echo "label $label"
    done
}

# Some series appear only once there is something to count, such as the queue depths the worker
# reads from the broker every 15 s, so this waits for them.
limit=$((SECONDS + 30))
until gaps=$(dashboard_gaps) && [[ -z $gaps ]]; do
    if ((SECONDS >= limit)); then
        fail "the dashboard queries what the services do not export: $(tr '\n' ' ' <<<"$gaps")"
    fi
    sleep 1
done
grep -Eq '^mailmesh_ingress_messages_total(\{[^}]*\})? [1-9]' "$work/ingress.metrics" ||
    fail "the ingress's /metrics counts no accepted message"
grep -Eq '^mailmesh_delivery_outcomes_total\{[^}]*mailmesh_outcome="delivered"[^}]*\} [1-9]' \
    "$work/delivery.metrics" || fail "the worker's /metrics counts no delivered recipient"
say "/metrics answers on both, with every metric and label the dashboard queries"

say "passed"
