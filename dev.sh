#!/usr/bin/env bash
# One entry point for building symgraph on a Debian machine.
#   ./dev.sh demo    install missing packages, build (release), run examples/relu_demo
#   ./dev.sh test    install missing packages, build and run every test suite,
#                    in the dev preset (warnings as errors) and the asan preset
#                    (AddressSanitizer + UndefinedBehaviorSanitizer), then the
#                    concurrency suite in the tsan preset (ThreadSanitizer)
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake g++ ninja-build pkg-config libeigen3-dev doctest-dev nlohmann-json3-dev libcli11-dev zlib1g-dev graphviz)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
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
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
