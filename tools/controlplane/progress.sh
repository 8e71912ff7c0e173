# Sourced by the build scripts: runs one long step (a `go build` of one binary) and reports
# progress on stderr while it runs — which binary, elapsed time, and an estimate — instead of
# a silent wait of many minutes on a cold first build.
#
#   with_progress <name> <default-estimate-seconds> <command...>
#
# The estimate is the step's last measured duration on this machine (recorded in
# $cache_root/build-times/<name>) or, the first time, the default given by the caller (a cold
# build on 2 cores). Lines come every 20 s (every 5 s on a terminal, rewritten in place).

_progress_dir() { echo "${cache_root:-${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}}/build-times"; }

_fmt_duration() { # seconds -> 1m05s / 42s
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

with_progress() {
  local name=$1 estimate=$2; shift 2
  local dir; dir=$(_progress_dir)
  local file="$dir/$name"
  local source="typical on 2 cores"
  if [ -r "$file" ] && [ "$(cat "$file")" -gt 0 ] 2>/dev/null; then estimate=$(cat "$file"); source="last build here"; fi
  local start; start=$(date +%s)
  local tty=0; [ -t 2 ] && tty=1
  local every=20; [ $tty = 1 ] && every=5
  echo "building $name (about $(_fmt_duration "$estimate"), $source)..." >&2
  "$@" &
  local pid=$! last=$start now elapsed left
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    now=$(date +%s)
    if [ $((now - last)) -ge $every ]; then
      last=$now
      elapsed=$((now - start))
      if [ "$elapsed" -lt "$estimate" ]; then left="about $(_fmt_duration $((estimate - elapsed))) left"; else left="taking longer than the $(_fmt_duration "$estimate") estimate"; fi
      if [ $tty = 1 ]; then printf '\r  %s: %s elapsed, %s   ' "$name" "$(_fmt_duration "$elapsed")" "$left" >&2
      else echo "  $name: $(_fmt_duration "$elapsed") elapsed, $left" >&2; fi
    fi
  done
  local rc=0
  wait "$pid" || rc=$?
  [ $tty = 1 ] && printf '\r\033[K' >&2
  elapsed=$(( $(date +%s) - start ))
  if [ $rc -eq 0 ]; then
    mkdir -p "$dir" && echo "$elapsed" > "$file"
    echo "built $name in $(_fmt_duration "$elapsed")" >&2
  else
    echo "building $name failed after $(_fmt_duration "$elapsed") (exit $rc)" >&2
  fi
  return $rc
}
