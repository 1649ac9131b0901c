#!/usr/bin/env bash
# Builds the fuzz targets, seeds the corpora and fuzzes each target for
# $FUZZ_SECONDS (default 900), one after the other: one fuzzer process at a
# time. Findings land in fuzz/artifacts/<target>/; logs in fuzz/logs/.
#
#   bash fuzz/run.sh                      # every target, 15 minutes each
#   FUZZ_SECONDS=60 bash fuzz/run.sh      # a smoke run
#   FUZZ_TARGETS=savefile bash fuzz/run.sh
#   FUZZ_SANITIZER=address bash fuzz/run.sh   # ASan (needs -Z flags: see below)
#
# Toolchain: cargo-fuzz's default build passes -Zsanitizer=address, which
# stable rustc refuses. tcplab's fuzzed paths hold no `unsafe`, so the
# default here is `--sanitizer none` (plain stable, about 2-5x faster);
# FUZZ_SANITIZER=address sets RUSTC_BOOTSTRAP=1 so stable accepts the -Z flag.
# Debug assertions are on (-a): an arithmetic overflow is a crash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

seconds="${FUZZ_SECONDS:-900}"
targets="${FUZZ_TARGETS:-frame savefile cli}"
sanitizer="${FUZZ_SANITIZER:-none}"

if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi
build=(--sanitizer "$sanitizer" --debug-assertions)

cargo fuzz build "${build[@]}"
bash "$here/seed-corpus.sh"
mkdir -p logs

status=0
for target in $targets; do
    case "$target" in
        frame) max_len=4096 ;;
        savefile) max_len=65536 ;;
        cli) max_len=512 ;;
        *) echo "run.sh: unknown target $target" >&2; exit 2 ;;
    esac
    echo "== $target for ${seconds}s (log: fuzz/logs/$target.log)"
    # -timeout: a hang is a bug; -rss_limit_mb: so is a 2 GB input.
    if ! cargo fuzz run "${build[@]}" "$target" "corpus/$target" -- \
        -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -max_total_time="$seconds" -print_final_stats=1 \
        >"logs/$target.log" 2>&1; then
        status=1
        echo "!! $target found a crash: see logs/$target.log and artifacts/$target/"
    fi
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::' "logs/$target.log" || true
    echo "corpus/$target: $(ls "corpus/$target" | wc -l) inputs"
done
exit "$status"
