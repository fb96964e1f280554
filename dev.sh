#!/usr/bin/env bash
# One entry point for building symgraph on a Debian machine.
#   ./dev.sh demo    install missing packages, build (release), run examples/relu_demo
#   ./dev.sh test    install missing packages, build and run every test suite,
#                    in the dev preset (warnings as errors) and the asan preset
#                    (AddressSanitizer + UndefinedBehaviorSanitizer), then the
#                    concurrency suite in the tsan preset (ThreadSanitizer)
#   ./dev.sh fuzz [SECONDS]
#                    install clang if missing, build the libFuzzer targets of
#                    fuzz/ (fuzz preset) and run each for SECONDS (default 60);
#                    fails on any crash, leak, timeout or sanitizer report
#                    (docs/fuzzing.md)
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake g++ ninja-build pkg-config libeigen3-dev doctest-dev nlohmann-json3-dev libcli11-dev zlib1g-dev graphviz)

install_packages() {  # install_packages [PACKAGE...]: PACKAGES by default
  local missing=() wanted=("$@")
  [ ${#wanted[@]} -eq 0 ] && wanted=("${PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing missing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build PRESET [TARGET...]
  local preset=$1; shift
  cmake --preset "$preset" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build --preset "$preset" --target "$@"
  else
    cmake --build --preset "$preset"
  fi
}

case "${1:-}" in
  demo)
    install_packages
    build release relu_demo symgraph_cli
    ./build/release/examples/relu_demo
    ;;
  test)
    install_packages
    echo "== dev preset: build and test"
    build dev
    ctest --preset dev
    echo "== asan preset: build and test"
    build asan
    ctest --preset asan
    echo "== tsan preset: build and run the concurrency suite"
    build tsan
    ctest --preset tsan
    ;;
  fuzz)
    seconds=${2:-60}
    case "$seconds" in '' | *[!0-9]*) echo "usage: $0 fuzz [SECONDS]" >&2; exit 2 ;; esac
    install_packages
    install_packages clang libclang-rt-14-dev
    echo "== fuzz preset: build the fuzz targets"
    build fuzz fuzz_json fuzz_parse fuzz_value
    failed=()
    for target in json parse value; do
      # New inputs go to build/fuzz/corpus (kept between local runs); the
      # seeds of fuzz/corpus are only read. Artifacts (the input of a crash,
      # leak or timeout) go to build/fuzz/artifacts.
      work=build/fuzz/corpus/$target
      mkdir -p "$work" build/fuzz/artifacts
      dict=fuzz/json.dict
      [ "$target" = parse ] && dict=fuzz/expr.dict
      echo "== fuzz_$target: $seconds s"
      if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "./build/fuzz/fuzz/fuzz_$target" \
          -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$dict" -print_final_stats=1 \
          -artifact_prefix="build/fuzz/artifacts/$target-" "$work" "fuzz/corpus/$target" \
          > "build/fuzz/fuzz_$target.log" 2>&1; then
        grep -E "^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))" \
          "build/fuzz/fuzz_$target.log" || true
        grep -E "^#[0-9]+[[:space:]]+DONE" "build/fuzz/fuzz_$target.log" | tail -1 || true
      else
        failed+=("fuzz_$target")
        tail -n 60 "build/fuzz/fuzz_$target.log"
      fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "== FAILED: ${failed[*]} (logs in build/fuzz/, inputs in build/fuzz/artifacts/)" >&2
      exit 1
    fi
    echo "== fuzz: every target ran ${seconds} s clean"
    ;;
  *)
    echo "usage: $0 demo|test|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
