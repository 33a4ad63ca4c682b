#!/usr/bin/env bash
# MailMesh benchmark: how fast the ingress accepts mail, against the broker it spools to and
# against Postfix on the same machine, how fast mail goes through ingress and delivery to
# smtp-sink, again against Postfix, and how much memory the ingress holds for idle sessions.
# See tests/bench/README.md. Runs as root (the broker runs as the rabbitmq user, Postfix as
# postfix); starts everything it measures on 127.0.0.1 and stops it all on exit.
#
# Environment:
#   BENCH_RUNS=3            runs of each measurement; the median is reported
#   BENCH_SECONDS=10        length of one broker-ceiling run
#   BENCH_TARGET_SECONDS=15 length aimed at for one accept run (sets the message count)
#   BENCH_MESSAGES=N        send N messages per accept run to both MailMesh and Postfix
#                           instead of sizing each run to BENCH_TARGET_SECONDS
#   BENCH_SKIP_BUILD=1      use the existing Release build
set -Eeuo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
results=$here/results/latest.md

runs=${BENCH_RUNS:-3}
ceiling_seconds=${BENCH_SECONDS:-10}
target_seconds=${BENCH_TARGET_SECONDS:-15}
fixed_messages=${BENCH_MESSAGES:-}
# The workload: 20 parallel SMTP sessions, one 4 KiB message of one recipient per session.
smtp_sessions=20
message_size=4096
idle_sessions=500
ceiling_publishers=(20 50)

ingress_dll=$repo/services/MailMesh.Ingress/bin/Release/net10.0/MailMesh.Ingress.dll
delivery_dll=$repo/services/MailMesh.Delivery/bin/Release/net10.0/MailMesh.Delivery.dll
bench_dll=$repo/tests/bench/MailMesh.Bench/bin/Release/net10.0/MailMesh.Bench.dll
rabbit_bin=/usr/lib/rabbitmq/bin

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

((EUID == 0)) || die "run as root: the broker runs as the rabbitmq user and Postfix as postfix"
for tool in "$rabbit_bin/rabbitmq-server" /usr/sbin/smtp-source /usr/sbin/smtp-sink /usr/sbin/postfix \
    python3 dotnet ss; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install rabbitmq-server postfix)"
done

work=$(mktemp -d /tmp/mailmesh-bench.XXXXXX)
# The broker and Postfix run as their own users and must reach their directories in here.
chmod 755 "$work"
node=mailmesh-bench-$$-$RANDOM@localhost
broker_pid=
generator_pids=()
w_children=0
ingress_pid=
delivery_pid=
mm_sink_pid=
sink_pid=
idle_pid=
postfix_dir=
verification_failed=

# ---------------------------------------------------------------------------------------------
# Cleanup: every process started here is stopped, whatever way the script ends.

stop_idle_sessions() {
    if [[ -n $idle_pid ]]; then
        # Closing its stdin tells the session holder to quit.
        exec 7>&- || true
        wait_gone "$idle_pid" 10 || kill -KILL "$idle_pid" 2>/dev/null || true
        idle_pid=
    fi
}

stop_ingress() {
    if [[ -n $ingress_pid ]]; then
        kill -TERM "$ingress_pid" 2>/dev/null || true
        wait_gone "$ingress_pid" 30 || kill -KILL "$ingress_pid" 2>/dev/null || true
        wait "$ingress_pid" 2>/dev/null || true
        ingress_pid=
    fi
}

stop_delivery() {
    if [[ -n $delivery_pid ]]; then
        kill -TERM "$delivery_pid" 2>/dev/null || true
        wait_gone "$delivery_pid" 60 || kill -KILL "$delivery_pid" 2>/dev/null || true
        wait "$delivery_pid" 2>/dev/null || true
        delivery_pid=
    fi
    if [[ -n $mm_sink_pid ]]; then
        kill -TERM "$mm_sink_pid" 2>/dev/null || true
        wait "$mm_sink_pid" 2>/dev/null || true
        mm_sink_pid=
    fi
}

stop_postfix() {
    if [[ -n $postfix_dir ]]; then
        postfix -c "$postfix_dir/etc" stop >/dev/null 2>&1 || true
        postfix_dir=
    fi
    if [[ -n $sink_pid ]]; then
        kill -TERM "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
        sink_pid=
    fi
}

stop_broker() {
    if [[ -n $broker_pid ]]; then
        ctl shutdown >/dev/null 2>&1 || kill -TERM "$broker_pid" 2>/dev/null || true
        wait_gone "$broker_pid" 60 || kill -KILL "$broker_pid" 2>/dev/null || true
        broker_pid=
    fi
}

cleanup() {
    local status=$?
    set +e
    stop_idle_sessions
    stop_delivery
    stop_ingress
    stop_postfix
    stop_broker
    if ((status != 0)); then
        # The work directory goes with everything else; its logs are the only clue left.
        for f in "$work/ingress.log" "$work/delivery.log" "$work/rabbitmq/out.log" "$work/postfix/maillog" "$work/build.log"; do
            if [[ -s $f ]]; then
                say "last lines of $f:"
                tail -n 15 "$f" >&2
            fi
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'say "error: line $LINENO failed: $BASH_COMMAND"' ERR
trap 'say interrupted; exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Small tools.

# alive PID: the process runs (a child that exited stays a zombie until waited for).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# wait_gone PID SECONDS: true once the process has exited.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$1" || return 0
        sleep 0.1
    done
    ! alive "$1"
}

port_taken() { [[ -n $(ss -Htln "sport = :$1") ]]; }

# A free port below the kernel's ephemeral range (32768 and up), where no outgoing connection
# can take it between the check and the bind; arguments are ports already handed out.
free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 12000))
        [[ " $* " != *" $port "* ]] || continue
        port_taken "$port" || {
            echo "$port"
            return 0
        }
    done
    die "no free port found"
}

# wait_listening PORT SECONDS PID: true once something listens on the port; false if PID ends.
wait_listening() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        port_taken "$1" && return 0
        alive "$3" || return 1
        sleep 0.1
    done
    return 1
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }

# median VALUES...: the middle value (the mean of the two middle ones for an even count).
median() {
    if (($# == 0)); then
        echo n/a
        return
    fi
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median_whole VALUES...: the median, rounded to a whole number.
median_whole() { awk -v m="$(median "$@")" 'BEGIN { if (m == "n/a") print m; else printf "%.0f", m }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# CPU accounting. The machine is shared, so each run also tells how much of its CPU time went
# to processes outside the benchmark: a run that competed with a build is not comparable.
hz=$(getconf CLK_TCK)

# cpu_ticks PID...: clock ticks used so far by the processes, with their children, reaped or
# running (Postfix's master forks and reaps its services all the time).
cpu_ticks() {
    # The command name may hold spaces: the fields are counted after its closing parenthesis,
    # so $2 is the parent, $12 to $15 are utime, stime, cutime and cstime.
    # Processes come and go between the glob and the read: cat's complaint about them is no error.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pids=" $* " '
        { pid = $1; sub(/^.*\) /, "") }
        index(pids, " " pid " ") { t += $12 + $13 + $14 + $15 }
        index(pids, " " $2 " ") { t += $12 + $13 }
        END { print t + 0 }'
}

# children_seconds VAR: sets VAR to the CPU seconds of this script's finished children
# (smtp-source, the broker client). Not in $(...): a subshell would report its own children.
children_seconds() {
    times >"$work/times"
    printf -v "$1" '%s' "$(awk 'NR == 2 { t = 0
        for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
        printf "%.3f", t }' "$work/times")"
}

# Ticks of the whole machine: busy, total, and busy in processes. The rest of busy is interrupt
# work, loopback networking for the most part, which belongs to whatever runs.
machine_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8, $2 + $3 + $4 }' \
        /proc/stat
}

# window_open PID...: starts accounting for the processes under test; background load
# generators (smtp-sink) are listed in generator_pids.
window_open() {
    w_sut=$(cpu_ticks "$@")
    w_gen=$(cpu_ticks "${generator_pids[@]}")
    children_seconds w_children
    read -r w_busy w_total w_process < <(machine_ticks)
}

# window_close PID...: sets win_sut, the CPU seconds the processes under test used since
# window_open, win_busy, the machine's busy share in percent, and win_other, the share in
# percent that went to processes neither under test nor generating the load.
window_close() {
    local sut gen children busy total process
    sut=$(cpu_ticks "$@")
    gen=$(cpu_ticks "${generator_pids[@]}")
    children_seconds children
    read -r busy total process < <(machine_ticks)
    win_sut=$(awk -v a="$w_sut" -v b="$sut" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')
    read -r win_busy win_other < <(awk -v hz="$hz" -v sut="$win_sut" \
        -v gen=$((gen - w_gen)) -v c0="$w_children" -v c1="$children" \
        -v b=$((busy - w_busy)) -v t=$((total - w_total)) -v p=$((process - w_process)) 'BEGIN {
            other = (p / hz - sut - gen / hz - (c1 - c0)) / (t / hz) * 100
            if (other < 0) other = 0
            printf "%.0f %.0f\n", b / t * 100, other }')
}

# per_message SECONDS N: microseconds per message.
per_message() { awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", s / n * 1e6; else print "n/a" }'; }

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# Messages per accept run: fixed by BENCH_MESSAGES, or what the warm-up rate sends in
# BENCH_TARGET_SECONDS, rounded to a thousand.
messages_for() {
    if [[ -n $fixed_messages ]]; then
        echo "$fixed_messages"
    else
        awk -v r="$1" -v t="$target_seconds" 'BEGIN { n = int(r * t / 1000 + 0.5) * 1000
            if (n < 2000) n = 2000; if (n > 200000) n = 200000; print n }'
    fi
}

# smtp_source PORT COUNT LOG: the workload; sets src_seconds to the time it took.
smtp_source() {
    local start=$EPOCHREALTIME
    if ! smtp-source -s "$smtp_sessions" -m "$2" -l "$message_size" \
        -f a@client.test -t b@example.test "127.0.0.1:$1" >>"$3" 2>&1; then
        say "smtp-source failed against port $1: $(tail -n 3 "$3")"
        return 1
    fi
    src_seconds=$(elapsed "$start" "$EPOCHREALTIME")
}

# ---------------------------------------------------------------------------------------------
# Broker.

ctl() { runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq "$rabbit_bin/rabbitmqctl" -n "$node" "$@"; }

start_broker() {
    amqp_port=$(free_port)
    local dist_port
    dist_port=$(free_port "$amqp_port")
    local dir=$work/rabbitmq
    mkdir -p "$dir"
    chown rabbitmq:rabbitmq "$dir"
    say "starting RabbitMQ node $node on 127.0.0.1:$amqp_port"
    # From the data directory, where the rabbitmq user may write (Erlang drops crash dumps in
    # the working directory).
    (cd "$dir" && exec runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq \
        RABBITMQ_NODENAME="$node" RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_DIST_PORT="$dist_port" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        "$rabbit_bin/rabbitmq-server" </dev/null >"$dir/out.log" 2>&1) &
    broker_pid=$!
    # await_startup gives up at once on a node that is not yet registered, so it is retried
    # for as long as the node is alive and has not opened its port.
    local i
    for ((i = 0; i < 90; i++)); do
        alive "$broker_pid" || die "the RabbitMQ node exited during startup"
        if ctl await_startup --timeout 10 >/dev/null 2>&1 && port_taken "$amqp_port"; then
            amqp_uri=amqp://guest:guest@127.0.0.1:$amqp_port/
            beam_pid=$(ss -Htlnp "sport = :$amqp_port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
            beam_pid=${beam_pid%%$'\n'*}
            [[ -n $beam_pid ]] || die "cannot tell which process listens on port $amqp_port"
            return 0
        fi
        sleep 1
    done
    die "the RabbitMQ node did not start in 90 s"
}

# queue_depth NAME: messages in the queue.
queue_depth() {
    # A failed listing counts as an empty queue: the caller asks again or reports the mismatch.
    { ctl list_queues --quiet --no-table-headers name messages 2>/dev/null || true; } |
        awk -v q="$1" '$1 == q { print $2; found = 1 } END { if (!found) print 0 }'
}

# wait_depth NAME N: the queue's depth once it reaches N, or after 30 s; the count the broker
# reports lags its confirms a little.
wait_depth() {
    local depth i
    for ((i = 0; i < 60; i++)); do
        depth=$(queue_depth "$1")
        ((depth >= $2)) && break
        sleep 0.5
    done
    echo "$depth"
}

# wait_empty NAME SECONDS: true once the queue is empty.
wait_empty() {
    local i
    for ((i = 0; i < $2 * 2; i++)); do
        (($(queue_depth "$1") == 0)) && return 0
        sleep 0.5
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# Ingress.

start_ingress() {
    ingress_port=$(free_port "$amqp_port")
    spool_prefix=$1
    # Run from the output directory: the host finds appsettings.json in its working directory.
    (cd "$(dirname "$ingress_dll")" && exec env \
        MailMesh__RabbitMq__Uri="$amqp_uri" \
        MailMesh__Ingress__Address=127.0.0.1 \
        MailMesh__Ingress__Port="$ingress_port" \
        MailMesh__Spool__QueuePrefix="$spool_prefix" \
        MailMesh__Ingress__MaxConnectionsPerClient=1000 \
        Logging__LogLevel__Default=Warning \
        dotnet "$ingress_dll" </dev/null >>"$work/ingress.log" 2>&1) &
    ingress_pid=$!
    wait_listening "$ingress_port" 60 "$ingress_pid" || die "the ingress did not start listening"
    # The subshell execs, so this is the ingress process itself, whose memory is measured.
}

# start_delivery PREFIX SINK_PORT: one delivery worker on the spool of PREFIX, every domain
# routed to smtp-sink on SINK_PORT. Default settings otherwise (prefetch 16, events on).
start_delivery() {
    local route="smtp://127.0.0.1:$2?tls=none"
    (cd "$(dirname "$delivery_dll")" && exec env \
        MailMesh__RabbitMq__Uri="$amqp_uri" \
        MailMesh__Spool__QueuePrefix="$1" \
        MailMesh__DefaultRoute="$route" \
        MailMesh__Routes__.test="$route" \
        MailMesh__Routes__localhost="$route" \
        Logging__LogLevel__Default=Warning \
        dotnet "$delivery_dll" </dev/null >>"$work/delivery.log" 2>&1) &
    delivery_pid=$!
}

# ---------------------------------------------------------------------------------------------
# Measurements.

measure_broker_ceiling() {
    local publishers run line confirmed rates cpu busy other
    for publishers in "${ceiling_publishers[@]}"; do
        rates=() cpu=() busy=() other=()
        for ((run = 1; run <= runs; run++)); do
            window_open "$beam_pid"
            # In the foreground, not in $(...), so that its CPU time counts as the load's.
            if ! dotnet "$bench_dll" broker --uri "$amqp_uri" --publishers "$publishers" \
                --seconds "$ceiling_seconds" >"$work/ceiling.out" 2>&1; then
                say "broker run failed or lost messages: $(tail -n 3 "$work/ceiling.out")"
                verification_failed=1
            fi
            window_close "$beam_pid"
            line=$(tail -n 1 "$work/ceiling.out")
            rates+=("$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")")
            confirmed=$(sed -n 's/.* confirmed=\([0-9]*\).*/\1/p' <<<"$line")
            cpu+=("$(per_message "$win_sut" "${confirmed:-0}")")
            busy+=("$win_busy")
            other+=("$win_other")
            say "  $line broker_cpu_us=${cpu[-1]} machine_busy=${win_busy}% others=${win_other}%"
        done
        ceiling_runs[$publishers]="${rates[*]}"
        ceiling_median[$publishers]=$(median "${rates[@]}")
        conditions[ceiling$publishers]="broker $(median_whole "${cpu[@]}") µs"
        conditions[ceiling$publishers]+=" | $(median_whole "${busy[@]}")% | $(median_whole "${other[@]}")%"
    done
}

measure_ingress() {
    local queue=$1.spool log=$work/smtp-source-ingress.log
    # Warm-up, not counted: JIT, the broker connection and its channels, and the size of
    # the measured runs.
    local n run depth ingress_cpu broker_cpu rates=() cpu_ingress=() cpu_broker=() busy=() other=()
    smtp_source "$ingress_port" 2000 "$log" || die "warm-up against the ingress failed"
    depth=$(wait_depth "$queue" 2000)
    ((depth == 2000)) || say "warm-up: the spool holds $depth messages, 2000 were sent"
    ctl purge_queue "$queue" >/dev/null
    n=$(messages_for "$(rate 2000 "$src_seconds")")
    ingress_messages=$n
    say "ingress: $n messages per run (warm-up: $(rate 2000 "$src_seconds") msg/s)"
    for ((run = 1; run <= runs; run++)); do
        window_open "$ingress_pid" "$beam_pid"
        ingress_cpu=$(cpu_ticks "$ingress_pid")
        smtp_source "$ingress_port" "$n" "$log" || die "smtp-source against the ingress failed"
        ingress_cpu=$(awk -v a="$ingress_cpu" -v b="$(cpu_ticks "$ingress_pid")" -v hz="$hz" \
            'BEGIN { printf "%.3f", (b - a) / hz }')
        window_close "$ingress_pid" "$beam_pid"
        broker_cpu=$(awk -v a="$win_sut" -v b="$ingress_cpu" 'BEGIN { printf "%.3f", a - b }')
        cpu_ingress+=("$(per_message "$ingress_cpu" "$n")")
        cpu_broker+=("$(per_message "$broker_cpu" "$n")")
        busy+=("$win_busy")
        other+=("$win_other")
        depth=$(wait_depth "$queue" "$n")
        rates+=("$(rate "$n" "$src_seconds")")
        say "  run $run: $n messages in $src_seconds s = ${rates[-1]} msg/s; spool holds $depth;" \
            "CPU per message: ingress ${cpu_ingress[-1]} us, broker ${cpu_broker[-1]} us;" \
            "machine ${win_busy}% busy, others ${win_other}%"
        if ((depth != n)); then
            say "  VERIFICATION FAILED: $n messages accepted, $depth in the spool"
            verification_failed=1
        fi
        ctl purge_queue "$queue" >/dev/null
    done
    ingress_runs="${rates[*]}"
    ingress_median=$(median "${rates[@]}")
    conditions[ingress]="ingress $(median_whole "${cpu_ingress[@]}") µs"
    conditions[ingress]+=" + broker $(median_whole "${cpu_broker[@]}") µs"
    conditions[ingress]+=" | $(median_whole "${busy[@]}")% | $(median_whole "${other[@]}")%"
    ingress_peak_mb=$(hwm_mb "$ingress_pid")
    if grep -qv '^$' "$log"; then
        say "smtp-source reported: $(sort "$log" | uniq -c | sort -rn | head -n 3 | tr '\n' ';')"
    fi
}

measure_idle_memory() {
    local out=$work/idle-sessions.out
    # Some mail first, so the measured process has its spool connection, its channels and
    # its code compiled, as any ingress that has been running does.
    smtp_source "$ingress_port" 1000 "$work/smtp-source-memory.log" ||
        die "warm-up before the memory measurement failed"
    sleep 2
    idle_base_mb=$(rss_mb "$ingress_pid")
    mkfifo "$work/hold"
    python3 "$here/idle_sessions.py" 127.0.0.1 "$ingress_port" --sessions "$idle_sessions" \
        --hold 120 <"$work/hold" >"$out" 2>&1 &
    idle_pid=$!
    exec 7>"$work/hold"
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q '^ready\|^failed' "$out" 2>/dev/null && break
        alive "$idle_pid" || break
        sleep 0.1
    done
    grep -q "^ready $idle_sessions" "$out" ||
        die "could not hold $idle_sessions sessions: $(cat "$out")"
    # Let the sessions' buffers settle, then take the figure.
    sleep 3
    idle_sessions_mb=$(rss_mb "$ingress_pid")
    idle_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$ingress_pid/status")
    say "ingress: RSS ${idle_base_mb} MB before, ${idle_sessions_mb} MB with $idle_sessions idle" \
        "sessions ($idle_threads threads)"
    stop_idle_sessions
}

start_postfix() {
    local dir=$work/postfix smtpd_port sink_port
    smtpd_port=$(free_port)
    sink_port=$(free_port "$smtpd_port")
    postfix_port=$smtpd_port
    mkdir -p "$dir/etc" "$dir/spool" "$dir/data"
    # master.lock lives in data_directory and is created by the postfix user.
    chown postfix:postfix "$dir/data"
    cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.mailmesh.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = test
relayhost = [127.0.0.1]:$sink_port
smtp_host_lookup = native
# Postfix logs every message, as it would in service; to a file, since no syslog runs here.
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
EOF
    # Only the services a relay uses, none chrooted (the private queue has no chroot set up).
    cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$smtpd_port inet n - n - - smtpd
pickup     unix      n - n 60    1 pickup
cleanup    unix      n - n -     0 cleanup
qmgr       unix      n - n 300   1 qmgr
rewrite    unix      - - n -     - trivial-rewrite
bounce     unix      - - n -     0 bounce
defer      unix      - - n -     0 bounce
trace      unix      - - n -     0 bounce
verify     unix      - - n -     1 verify
flush      unix      n - n 1000? 0 flush
proxymap   unix      - - n -     - proxymap
proxywrite unix      - - n -     1 proxymap
smtp       unix      - - n -     - smtp
relay      unix      - - n -     - smtp
showq      unix      n - n -     - showq
error      unix      - - n -     - error
retry      unix      - - n -     - error
discard    unix      - - n -     - discard
anvil      unix      - - n -     1 anvil
scache     unix      - - n -     1 scache
postlog    unix-dgram n - n -    1 postlogd
EOF
    # smtp-sink counts received messages on stdout ("mesg=N"), which is how end-to-end
    # delivery is timed.
    smtp-sink -c -u postfix "127.0.0.1:$sink_port" 1000 >"$work/sink.out" 2>&1 &
    sink_pid=$!
    generator_pids=("$sink_pid")
    wait_listening "$sink_port" 10 "$sink_pid" || die "smtp-sink did not start"
    postfix -c "$dir/etc" check >"$work/postfix-check.log" 2>&1 ||
        die "postfix check failed: $(cat "$work/postfix-check.log")"
    postfix_dir=$dir
    postfix -c "$dir/etc" start >>"$work/postfix-check.log" 2>&1 ||
        die "postfix did not start: $(tail -n 3 "$dir/maillog" 2>/dev/null)"
    postfix_master_pid=$(head -n 1 "$dir/spool/pid/master.pid" | tr -d ' ')
    wait_listening "$smtpd_port" 20 "$postfix_master_pid" || die "postfix did not start listening"
    say "started Postfix $(postconf -d -h mail_version) on 127.0.0.1:$smtpd_port, relaying to" \
        "smtp-sink on 127.0.0.1:$sink_port"
}

# sink_count [FILE]: messages the smtp-sink writing FILE (Postfix's by default) has received.
sink_count() {
    tail -c 300 "${1:-$work/sink.out}" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1
}

# wait_sink FILE COUNT SECONDS: true once that smtp-sink has received COUNT messages in all.
wait_sink() {
    local i got
    for ((i = 0; i < $3 * 10; i++)); do
        got=$(sink_count "$1")
        ((${got:-0} >= $2)) && return 0
        sleep 0.1
    done
    return 1
}

postfix_queue_empty() {
    local listing
    listing=$(postqueue -c "$postfix_dir/etc" -p 2>/dev/null) || return 1
    [[ $listing == "Mail queue is empty"* ]]
}

# postfix_run COUNT LOG: sets run_accept, the seconds until smtp-source had sent everything,
# and run_e2e, the seconds until smtp-sink had received everything ("n/a" when it did not in
# time); then waits for Postfix's queue to empty, so the next run starts from nothing.
postfix_run() {
    local n=$1 before start accepted end i got
    before=$(sink_count)
    before=${before:-0}
    window_open "$postfix_master_pid"
    start=$EPOCHREALTIME
    smtp-source -s "$smtp_sessions" -m "$n" -l "$message_size" \
        -f a@client.test -t b@example.test "127.0.0.1:$postfix_port" >>"$2" 2>&1 ||
        die "smtp-source against Postfix failed: $(tail -n 3 "$2")"
    accepted=$EPOCHREALTIME
    end=
    # Delivery gets as long again as acceptance took, and at least 60 s.
    local limit
    limit=$(awk -v a="$start" -v b="$accepted" \
        'BEGIN { s = (b - a) * 2; if (s < 60) s = 60; print int(s * 10) }')
    for ((i = 0; i < limit; i++)); do
        got=$(sink_count)
        if ((${got:-0} - before >= n)); then
            end=$EPOCHREALTIME
            break
        fi
        sleep 0.1
    done
    window_close "$postfix_master_pid"
    if [[ -z $end ]]; then
        say "  only $((${got:-0} - before)) of $n messages reached smtp-sink in time"
        verification_failed=1
    fi
    for ((i = 0; i < 600; i++)); do
        postfix_queue_empty && break
        sleep 0.1
    done
    run_accept=$(elapsed "$start" "$accepted")
    run_e2e=n/a
    if [[ -n $end ]]; then
        run_e2e=$(elapsed "$start" "$end")
    fi
}

measure_postfix() {
    local log=$work/smtp-source-postfix.log n run accept_rates=() e2e_rates=() cpu=() busy=() other=()
    # Warm-up, not counted: Postfix starts its smtpd, cleanup and smtp processes on demand.
    postfix_run 1000 "$log"
    n=$(messages_for "$(rate 1000 "$run_accept")")
    postfix_messages=$n
    say "postfix: $n messages per run (warm-up: $(rate 1000 "$run_accept") msg/s)"
    for ((run = 1; run <= runs; run++)); do
        postfix_run "$n" "$log"
        accept_rates+=("$(rate "$n" "$run_accept")")
        if [[ $run_e2e != n/a ]]; then
            e2e_rates+=("$(rate "$n" "$run_e2e")")
        fi
        cpu+=("$(per_message "$win_sut" "$n")")
        busy+=("$win_busy")
        other+=("$win_other")
        say "  run $run: $n messages accepted in $run_accept s = ${accept_rates[-1]} msg/s," \
            "all at the sink after $run_e2e s; CPU per message: Postfix ${cpu[-1]} us;" \
            "machine ${win_busy}% busy, others ${win_other}%"
    done
    conditions[postfix]="Postfix, all processes, $(median_whole "${cpu[@]}") µs"
    conditions[postfix]+=" | $(median_whole "${busy[@]}")% | $(median_whole "${other[@]}")%"
    postfix_runs="${accept_rates[*]}"
    postfix_median=$(median "${accept_rates[@]}")
    postfix_e2e_runs="${e2e_rates[*]:-n/a}"
    postfix_e2e_median=$(median "${e2e_rates[@]}")
}

# MailMesh end to end: smtp-source into the ingress, one delivery worker relaying every message
# to smtp-sink. A run's time is from smtp-source's start until smtp-sink has them all; the spool
# must be empty afterwards.
measure_mailmesh_e2e() {
    local queue=$1.spool log=$work/smtp-source-e2e.log sink=$work/mm-sink.out
    local n run start end before total rates=() cpu=() busy=() other=() depth limit
    mm_sink_port=$(free_port "$amqp_port")
    smtp-sink -c -u postfix "127.0.0.1:$mm_sink_port" 1000 >"$sink" 2>&1 &
    mm_sink_pid=$!
    generator_pids=("$mm_sink_pid")
    wait_listening "$mm_sink_port" 10 "$mm_sink_pid" || die "smtp-sink did not start"
    start_ingress "$1"
    start_delivery "$1" "$mm_sink_port"

    # Warm-up, not counted: both services compile their code and open their connections; its
    # end-to-end rate sizes the counted runs.
    start=$EPOCHREALTIME
    smtp_source "$ingress_port" 2000 "$log" || die "warm-up against the ingress failed"
    wait_sink "$sink" 2000 180 || say "warm-up: only $(sink_count "$sink") of 2000 reached smtp-sink"
    n=$(messages_for "$(rate 2000 "$(elapsed "$start" "$EPOCHREALTIME")")")
    wait_empty "$queue" 120 || say "warm-up: the spool still holds $(queue_depth "$queue") messages"
    mailmesh_e2e_messages=$n
    say "mailmesh end to end: $n messages per run"
    for ((run = 1; run <= runs; run++)); do
        before=$(sink_count "$sink")
        total=$((${before:-0} + n))
        window_open "$ingress_pid" "$delivery_pid" "$beam_pid"
        start=$EPOCHREALTIME
        smtp_source "$ingress_port" "$n" "$log" || die "smtp-source against the ingress failed"
        # Delivery gets twice as long as acceptance took, and at least 60 s.
        limit=$(awk -v s="$src_seconds" 'BEGIN { s *= 2; if (s < 60) s = 60; print int(s) }')
        end=
        if wait_sink "$sink" "$total" "$limit"; then
            end=$EPOCHREALTIME
        fi
        window_close "$ingress_pid" "$delivery_pid" "$beam_pid"
        wait_empty "$queue" 120
        depth=$(queue_depth "$queue")
        if [[ -z $end ]]; then
            say "  VERIFICATION FAILED: only $(($(sink_count "$sink") - before)) of $n messages" \
                "reached smtp-sink in time"
            verification_failed=1
            continue
        fi
        rates+=("$(rate "$n" "$(elapsed "$start" "$end")")")
        cpu+=("$(per_message "$win_sut" "$n")")
        busy+=("$win_busy")
        other+=("$win_other")
        say "  run $run: $n messages at smtp-sink after $(elapsed "$start" "$end") s = ${rates[-1]}" \
            "msg/s (accepted in $src_seconds s); spool holds $depth after; CPU per message:" \
            "${cpu[-1]} us; machine ${win_busy}% busy, others ${win_other}%"
    done
    mailmesh_e2e_runs="${rates[*]:-n/a}"
    mailmesh_e2e_median=$(median "${rates[@]}")
    conditions[e2e]="ingress, delivery and broker $(median_whole "${cpu[@]}") µs"
    conditions[e2e]+=" | $(median_whole "${busy[@]}")% | $(median_whole "${other[@]}")%"
    stop_delivery
    stop_ingress
    generator_pids=()
}

# ---------------------------------------------------------------------------------------------
# The run.

started=$EPOCHREALTIME
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
    say "building Release"
    (cd "$repo" && dotnet build -c Release MailMesh.sln -nologo -v quiet >"$work/build.log" 2>&1) ||
        die "the build failed (another change in progress? try again, or BENCH_SKIP_BUILD=1)"
fi
[[ -f $ingress_dll ]] || die "$ingress_dll is missing"
[[ -f $delivery_dll ]] || die "$delivery_dll is missing"
if [[ ! -f $bench_dll ]]; then
    (cd "$repo" && dotnet build -c Release tests/bench/MailMesh.Bench -nologo -v quiet \
        >>"$work/build.log" 2>&1) ||
        die "building MailMesh.Bench failed"
fi

start_broker
rabbit_version=$(ctl version 2>/dev/null || dpkg-query -W -f '${Version}' rabbitmq-server)

declare -A ceiling_runs ceiling_median conditions
say "broker ceiling: ${ceiling_publishers[*]} publishers, $ceiling_seconds s, $runs runs each"
measure_broker_ceiling

prefix=bench-$$-$RANDOM
say "ingress accept rate: smtp-source -s $smtp_sessions -l $message_size, $runs runs"
start_ingress "$prefix"
measure_ingress "$prefix"
stop_ingress

say "ingress memory at $idle_sessions idle sessions"
start_ingress "$prefix-idle"
measure_idle_memory
stop_ingress

say "MailMesh end to end: ingress, one delivery worker, smtp-sink; $runs runs"
measure_mailmesh_e2e "$prefix-e2e"

for q in "$prefix.spool" "$prefix.poison" "$prefix-idle.spool" "$prefix-idle.poison"; do
    ctl delete_queue "$q" >/dev/null 2>&1 || true
done
# Postfix is measured without an idle broker beside it, as it would run in service.
stop_broker

say "Postfix accept and end-to-end rates: the same workload, $runs runs"
start_postfix
measure_postfix
stop_postfix

# ---------------------------------------------------------------------------------------------
# Report.

ceiling20=${ceiling_median[20]}
accept_vs_postfix=$(ratio "$ingress_median" "$postfix_median")
accept_vs_ceiling=$(ratio "$ingress_median" "$ceiling20")
e2e_vs_postfix=$(ratio "$mailmesh_e2e_median" "$postfix_e2e_median")
verdict() {
    awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
        if (v == "n/a") print "not measured"
        else if ((dir == ">=" && v >= t) || (dir == "<" && v < t)) print "met"
        else print "**not met**" }'
}
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi

cpu_model=$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
sizing="each sized to about $target_seconds s of load"
[[ -z $fixed_messages ]] || sizing="set by BENCH_MESSAGES"
memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

report() {
    cat <<EOF
# MailMesh benchmark

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs ($cpu_model), $memory memory, Linux $(uname -r); load average before
  the run: $load_before
- Versions: MailMesh $commit, .NET $(dotnet --version), RabbitMQ $rabbit_version,
  Postfix $(postconf -d -h mail_version)
- Workload: \`smtp-source -s $smtp_sessions -l $message_size\`, one recipient, one message per
  connection; $ingress_messages messages per MailMesh accept run, $mailmesh_e2e_messages per
  MailMesh end-to-end run, $postfix_messages per Postfix run
  ($sizing); every rate is the median of $runs runs
- Duration: $(elapsed "$started" "$EPOCHREALTIME") s

| Measurement | Median | Runs |
| --- | ---: | --- |
| Broker ceiling, 20 publishers (confirmed publishes/s) | ${ceiling_median[20]} | ${ceiling_runs[20]} |
| Broker ceiling, 50 publishers (confirmed publishes/s) | ${ceiling_median[50]} | ${ceiling_runs[50]} |
| MailMesh ingress accepted (messages/s) | $ingress_median | $ingress_runs |
| Postfix accepted (messages/s) | $postfix_median | $postfix_runs |
| Postfix end to end, to smtp-sink (messages/s) | $postfix_e2e_median | $postfix_e2e_runs |
| MailMesh end to end, one delivery worker, to smtp-sink (messages/s) | $mailmesh_e2e_median | $mailmesh_e2e_runs |
| Ingress resident memory, idle after warm-up (MB) | $idle_base_mb | one run |
| Ingress resident memory, $idle_sessions idle sessions (MB) | $idle_sessions_mb | one run |
| Ingress peak resident memory during the accept runs (MB) | $ingress_peak_mb | one run |

| Target | Measured | Goal | Verdict |
| --- | ---: | ---: | --- |
| MailMesh accepted / Postfix accepted | $accept_vs_postfix | ≥ 3 | $(verdict "$accept_vs_postfix" 3 ">=") |
| MailMesh end to end / Postfix end to end | $e2e_vs_postfix | ≥ 2 | $(verdict "$e2e_vs_postfix" 2 ">=") |
| MailMesh accepted / broker ceiling (20 publishers) | $accept_vs_ceiling | ≥ 0.5 | $(verdict "$accept_vs_ceiling" 0.5 ">=") |
| Ingress resident memory at $idle_sessions sessions (MB) | $idle_sessions_mb | < 200 | $(verdict "$idle_sessions_mb" 200 "<") |

How busy the machine was (medians of the same runs). "Others" is the share of all CPU time taken
by processes outside the benchmark, such as builds on a shared machine: figures from runs where
it is high are not comparable. CPU per message counts what the measured system used, whatever
its speed; for Postfix that includes relaying every message to smtp-sink.

| Runs | CPU per message | Machine busy | Others |
| --- | --- | ---: | ---: |
| Broker ceiling, 20 publishers | ${conditions[ceiling20]} |
| Broker ceiling, 50 publishers | ${conditions[ceiling50]} |
| MailMesh accept | ${conditions[ingress]} |
| MailMesh accept and relay | ${conditions[e2e]} |
| Postfix accept and relay | ${conditions[postfix]} |
EOF
    if [[ -n $verification_failed ]]; then
        printf '\n**A verification failed during this run (see its output): treat these figures as'
        printf ' suspect.**\n'
    fi
}

mkdir -p "$(dirname "$results")"
report | tee "$results"
say "written to ${results#"$repo"/}"
[[ -z $verification_failed ]]
