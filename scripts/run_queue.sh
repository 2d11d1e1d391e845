# Sourced by the comparison scripts (ac_parity, compare_dendrites, pai_gd, pb_rules, recipe): runs
# the shell commands in the array `cmds`, $JOBS at a time. `run_queue --quiet` sends each command's
# standard output to /dev/null (errors still show).
run_queue() {
  local redirect=""
  [ "${1:-}" = --quiet ] && redirect=" > /dev/null"
  echo "${#cmds[@]} runs to do, $JOBS at a time"
  ((${#cmds[@]})) || return 0
  printf '%s\n' "${cmds[@]}" | xargs -P "$JOBS" -I{} sh -c "{}$redirect"
}
