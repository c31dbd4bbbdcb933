#!/bin/sh
# make bench: run every benchmark in bench/ once, against a map of its
# own, and turn their lines ("name median min max unit", over repetitions)
# into one table per group, ratios measured in this run, a verdict per
# goal, bench/results/latest.json and two charts.
set -eu
O=${O:-build}
here=$(cd "$(dirname "$0")" && pwd)
results=$here/results
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
mkdir -p "$results"

dir=/sys/fs/bpf/tld-bench
# Group 7 first: it needs a machine where no tld guard is attached yet.
echo "bench: switch" >&2
"$O/bench/switch" >>"$raw" || echo "bench: switch failed" >&2
"$O/tldtool" --path "$dir/tld_data_map" map create >/dev/null
export TLD_MAP_PATH=$dir/tld_data_map
for b in update update_cxx upstream bpfread register keys memory agent; do
	echo "bench: $b" >&2
	"$O/bench/$b" >>"$raw" || echo "bench: $b failed" >&2
done
# The compact layout, with the data bytes upstream's buffer has here (128).
echo "bench: memory, compact" >&2
TLD_COMPACT=128 "$O/bench/memory" >>"$raw" || echo "bench: memory, compact failed" >&2
"$O/tldtool" --path "$dir/tld_data_map" map remove >/dev/null

# Registration in strict mode: a 0600 map, and uid 65534 registering through tldd.
echo "bench: register through tldd" >&2
sock=$(mktemp -u /tmp/tldd-bench.XXXXXX)
"$O/tldtool" --path "$dir/tld_data_map" map create --mode 0600 >/dev/null
"$O/tldd" --socket "$sock" --map "$dir/tld_data_map" 2>/dev/null &
tldd=$!
while [ ! -S "$sock" ] && kill -0 $tldd 2>/dev/null; do sleep 0.05; done
TLD_SOCKET=$sock setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$O/bench/register" broker >>"$raw" || echo "bench: register through tldd failed" >&2
kill $tldd
wait $tldd 2>/dev/null || true
rm -f "$sock"
"$O/tldtool" --path "$dir/tld_data_map" map remove >/dev/null

awk -v json="$results/latest.json" -v dat="$results" \
    -v kernel="$(uname -r)" -v cpus="$(nproc)" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
function v(n) { if (!(n in med)) { missing = missing " " n; return 0 } return med[n] }
function row(label, n, base) {
	printf "  %-44s %10.4g %-3s  %9.4g-%-9.4g", label, v(n), unit[n], lo[n], hi[n]
	if (base != "" && v(base) > 0) printf " %9.3gx", v(n) / v(base)
	printf "\n"
}
# goal(text, value, limit, sense): sense "le" wants value <= limit.
function goal(text, value, limit, sense,   met, by) {
	met = sense == "le" ? value <= limit : value >= limit
	if (limit == 0 || value == 0)
		by = "exactly"
	else if (sense == "le")
		by = sprintf("%s by %.2fx", met ? "beaten" : "missed", met ? limit / value : value / limit)
	else
		by = sprintf("%s by %.2fx", met ? "beaten" : "missed", met ? value / limit : limit / value)
	printf "  %-6s %s: %.3g (goal %s %.3g; %s)\n", met ? "MET" : "MISSED", text, value,
	       sense == "le" ? "<=" : ">=", limit, by
	goals = goals sprintf("%s{\"goal\":\"%s\",\"value\":%.6g,\"limit\":%.6g,\"sense\":\"%s\",\"met\":%s}",
			      goals == "" ? "" : ",", text, value, limit, sense, met ? "true" : "false")
}
# "skip GROUP REASON": a benchmark this machine cannot run, and why.
$1 == "skip" { r = $0; sub(/^skip [^ ]+ /, "", r); skip[$2] = r; next }
{ med[$1] = $2; lo[$1] = $3; hi[$1] = $4; unit[$1] = $5; order[++n] = $1 }
END {
	print "1. User-side hint update (median of 7, min-max, ratio to a __thread store)"
	row("(a) __thread store", "update.plain", "update.plain")
	row("(b) tld, cached pointer", "update.cached", "update.plain")
	row("(c) tld_get_data(key) + store", "update.get", "update.plain")
	row("(c++) tld::var<T> assignment", "update.cxx_var", "update.plain")
	row("(d) upstream tld_get_data(fd, key) + store", "update.upstream_get", "update.plain")
	row("(e) bpf_map_update_elem, task storage", "update.map_task", "update.plain")
	row("(e) bpf_map_update_elem, hash by tid", "update.map_pid", "update.plain")
	row("(f) prctl(PR_SET_NAME)", "update.prctl", "update.plain")
	goal("(b) <= 1.2x (a)", v("update.cached") / v("update.plain"), 1.2, "le")
	goal("(c) <= 3x (a)", v("update.get") / v("update.plain"), 3, "le")
	goal("(c++) <= 1.1x (c)", v("update.cxx_var") / v("update.get"), 1.1, "le")
	goal("(b) >= 300x faster than (e)", v("update.map_task") / v("update.cached"), 300, "ge")
	print ""
	print "2. BPF-side read, bpf_stats run time per run, then per read (ratio to a bare storage lookup and load)"
	row("bare bpf_task_storage_get + load", "read.bare", "read.bare")
	row("tld.bpf.h, cached key", "read.tld", "read.bare")
	row("upstream task_local_data.bpf.h", "read.upstream", "read.bare")
	row("hash map by tid", "read.hash", "read.bare")
	row("tld.bpf.h, first lookup, 63 keys", "read.uncached", "read.bare")
	print "   per read (64 reads a run, less an empty loop of 64 turns; ratio to bare)"
	row("the empty loop, per run (subtracted)", "read.empty", "")
	row("bare bpf_task_storage_get + load", "read.bare_per_read", "read.bare_per_read")
	row("tld.bpf.h, cached key", "read.tld_per_read", "read.bare_per_read")
	row("upstream task_local_data.bpf.h", "read.upstream_per_read", "read.bare_per_read")
	row("hash map by tid", "read.hash_per_read", "read.bare_per_read")
	goal("tld cached read <= 1.2x bare, per read", v("read.tld_per_read") / v("read.bare_per_read"), 1.2, "le")
	print ""
	print "3. Registration"
	row("first tld_get_data in a thread, median", "register.first_use", "")
	row("... p99", "register.first_use_p99", "")
	row("thread create + exit", "register.life_without", "register.life_without")
	row("thread create + first use + exit", "register.life_with", "register.life_without")
	goal("first use <= 20 us", v("register.first_use"), 20, "le")
	goal("first use p99 <= 100 us", v("register.first_use_p99"), 100, "le")
	goal("thread life with tld <= 1.5x without", v("register.life_with") / v("register.life_without"), 1.5, "le")
	row("first use through tldd (strict mode), median", "broker.first_use", "register.first_use")
	row("... p99", "broker.first_use_p99", "register.first_use_p99")
	row("thread create + first use + exit, tldd", "broker.life_with", "register.life_without")
	goal("first use through tldd <= 50 us", v("broker.first_use"), 50, "le")
	print ""
	print "4. Key creation: 64 threads, the same 63 keys, at once"
	row("total", "keys.total", "")
	row("p99 per call", "keys.call_p99", "")
	goal("wrong or failed keys == 0", v("keys.wrong"), 0, "le")
	print ""
	print "5. Memory per registered thread (RSS over a bare thread; 8 bytes of hints used)"
	row("tld, 1,000 threads", "memory.tld_rss.1000", "")
	row("tld, 10,000 threads", "memory.tld_rss.10000", "")
	row("upstream header, 1,000 threads", "memory.upstream_rss.1000", "")
	row("upstream header, 10,000 threads", "memory.upstream_rss.10000", "")
	row("tld compact (128 bytes a thread), 1,000 threads", "memory.tld_compact_rss.1000", "memory.upstream_rss.1000")
	row("tld compact (128 bytes a thread), 10,000 threads", "memory.tld_compact_rss.10000", "memory.upstream_rss.10000")
	goal("compact bytes per thread <= upstream, 10,000 threads",
	     v("memory.tld_compact_rss.10000") / v("memory.upstream_rss.10000"), 1, "le")
	printf "  pinned by the kernel per thread: tld one 4096-byte page; tld compact 4096/31 = 132 bytes (31 areas a page);\n"
	printf "  upstream the page holding its buffer, shared with the buffers malloc put beside it\n"
	print ""
	print "6. The agent store, 10,000 live threads (ratios to the agent scan or to a bare read)"
	if ("agent" in skip) {
		printf "  not run: %s\n", skip["agent"]
	} else {
		row("agent: full scan of the records", "agent.scan", "agent.scan")
		row("pid-keyed hash: bpf_map_lookup_batch", "agent.scan_batch", "agent.scan")
		row("pid-keyed hash: one lookup_elem per tid", "agent.scan_elem", "agent.scan")
		row("agent: lookup by tid", "agent.lookup", "")
		row("BPF: bare task-storage lookup + load, per read", "agent.bpf_bare", "agent.bpf_bare")
		row("BPF: record from the task_struct, per read", "agent.bpf_record", "agent.bpf_bare")
		row("arena bytes per live record (index included)", "agent.bytes_per_record", "")
		row("record page bytes per live record", "agent.record_bytes", "")
		row("fork + exit, no store", "agent.fork_without", "agent.fork_without")
		row("fork + exit, store attached", "agent.fork_with", "agent.fork_without")
		goal("scan >= 50x faster than lookup_batch", v("agent.scan_batch") / v("agent.scan"), 50, "ge")
		goal("scan >= 500x faster than lookup_elem", v("agent.scan_elem") / v("agent.scan"), 500, "ge")
		goal("BPF record lookup <= 1.2x bare", v("agent.bpf_record") / v("agent.bpf_bare"), 1.2, "le")
		goal("fork + exit with the store <= 1.1x", v("agent.fork_with") / v("agent.fork_without"), 1.1, "le")
	}
	print ""
	print "7. What a tld map costs every task, using tld or not (its guard, exec and exit programs)"
	if ("switch" in skip) {
		printf "  not run: %s\n", skip["switch"]
	} else {
		row("pipe round trip, 2 threads on 1 CPU, no map", "switch.pingpong_without", "switch.pingpong_without")
		row("... with programs that do nothing there (the floor)", "switch.pingpong_floor", "switch.pingpong_without")
		row("... with the guard of a map attached", "switch.pingpong_with", "switch.pingpong_without")
		row("    the guard over the floor", "switch.pingpong_with", "switch.pingpong_floor")
		row("posix_spawn + wait of /bin/true, no map", "switch.spawn_without", "switch.spawn_without")
		row("... with the exec and exit programs of a map attached", "switch.spawn_with", "switch.spawn_without")
		goal("context switch with the guard <= 1.05x", v("switch.pingpong_with") / v("switch.pingpong_without"), 1.05, "le")
		goal("exec with the map <= 1.05x", v("switch.spawn_with") / v("switch.spawn_without"), 1.05, "le")
	}
	if (missing != "")
		print "bench: no result for" missing
	printf "{\"date\":\"%s\",\"kernel\":\"%s\",\"cpus\":%d,\"results\":{", date, kernel, cpus > json
	for (i = 1; i <= n; i++)
		printf "%s\"%s\":{\"median\":%s,\"min\":%s,\"max\":%s,\"unit\":\"%s\"}", (i > 1 ? "," : ""),
		       order[i], med[order[i]], lo[order[i]], hi[order[i]], unit[order[i]] > json
	printf "},\"goals\":[%s]}\n", goals > json
	f = dat "/update.dat"
	printf "__thread %s\ntld-cached %s\ntld_get_data %s\nupstream %s\nmap-update %s\nprctl %s\n",
	       v("update.plain"), v("update.cached"), v("update.get"), v("update.upstream_get"),
	       v("update.map_task"), v("update.prctl") > f
	f = dat "/memory.dat"
	printf "1000 %s %s 4096\n10000 %s %s 4096\n", v("memory.tld_rss.1000"), v("memory.upstream_rss.1000"),
	       v("memory.tld_rss.10000"), v("memory.upstream_rss.10000") > f
	exit missing != ""
}' "$raw"

if command -v gnuplot >/dev/null; then
	(cd "$results" && gnuplot "$here/charts.gp") && echo "charts: $results/update.svg, $results/memory.svg"
fi
rm -f "$results/update.dat" "$results/memory.dat"
echo "results: $results/latest.json"
