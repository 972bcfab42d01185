#!/usr/bin/env bash
# Runs `chatbatch nightly` from cron (or systemd, or by hand) and keeps a log of every run.
#
#   chatbatch-nightly.sh [extra chatbatch nightly options...]
#
# Settings come from the environment, or from an env file (KEY=value lines), by default
# /etc/chatbatch/chatbatch.env, else $CHATBATCH_ENV_FILE:
#   CHATBATCH_HOME           where the batch's state lives (required)
#   CHATBATCH_BIN            the chatbatch executable (default: the repository's .venv, else PATH)
#   CHATBATCH_LOG_DIR        where the logs go (default: $CHATBATCH_HOME/logs)
#   CHATBATCH_WEBHOOK_URL, DBT_TARGET, ...   passed on to chatbatch as they are
#
# No flock here: chatbatch takes its own lock and exits 3 when another run holds it.
# Exit codes are chatbatch's (`chatbatch --help`; defined in scripts/chatbatch/core/exit_codes.py,
# and tests/python/test_exit_codes.py checks the case table below against it). Only 1, 2 and 4
# print to stderr (so cron's MAILTO mails only real problems); every run appends one line to
# nightly.log. A failed night's own log names chatbatch's log file with the traceback, if any.
set -uo pipefail

env_file="${CHATBATCH_ENV_FILE:-/etc/chatbatch/chatbatch.env}"
if [[ -f "$env_file" ]]; then
    set -a
    # shellcheck disable=SC1090
    source "$env_file"
    set +a
fi

if [[ -z "${CHATBATCH_HOME:-}" ]]; then
    echo "chatbatch-nightly: CHATBATCH_HOME is not set (environment or $env_file)" >&2
    exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${CHATBATCH_BIN:-}"
if [[ -z "$bin" ]]; then
    if [[ -x "$repo/.venv/bin/chatbatch" ]]; then bin="$repo/.venv/bin/chatbatch"; else bin="chatbatch"; fi
fi
log_dir="${CHATBATCH_LOG_DIR:-$CHATBATCH_HOME/logs}"
mkdir -p "$log_dir"
started="$(date -u +%Y%m%dT%H%M%SZ)"
log="$log_dir/nightly-$started-$$.log"

export CHATBATCH_HOME
"$bin" nightly "$@" >"$log" 2>&1
code=$?

case "$code" in
    0) meaning="ok or skipped" ;;
    1) meaning="batch failed" ;;
    2) meaning="usage error" ;;
    3) meaning="skipped: another run holds the lock" ;;
    4) meaning="data-quality threshold breached" ;;
    *) meaning="unexpected exit" ;;
esac
echo "$started exit=$code ($meaning) log=$log" >>"$log_dir/nightly.log"
if [[ "$code" != 0 && "$code" != 3 ]]; then
    echo "chatbatch nightly: exit $code ($meaning); last lines of $log:" >&2
    tail -n 20 "$log" >&2
fi
exit "$code"
