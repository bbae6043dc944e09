# procs.sh — sourced by the scripts that start servers.

# stop_pids PID...: SIGTERM each (the last started first), give each up to
# 5 s to exit, SIGKILL what is left, and reap them. Only PIDs the calling
# script started are ever passed.
stop_pids() {
	local i pid n
	for ((i = $#; i >= 1; i--)); do
		kill "${!i}" 2>/dev/null || true
	done
	for pid in "$@"; do
		for ((n = 0; n < 50; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$(ps -o comm= -p "$pid" 2>/dev/null || echo process) (pid $pid) did not stop on SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
}

# forget PID: PID (stopped, or ended) is no longer one of PIDS, the
# processes a script started and stops on exit.
forget() {
	local keep=() q
	for q in "${PIDS[@]}"; do [[ $q == "$1" ]] || keep+=("$q"); done
	PIDS=("${keep[@]}")
}
