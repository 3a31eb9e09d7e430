# Sourced first by every bench/run_*.sh with the script's arguments: checks
# the one argument (the build directory), sets `build` and `src` (the
# source tree), points tests/interop/lib.sh at BUILD_DIR/irisx and sources
# it. Usage: . "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck shell=bash
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: bench/$(basename "$0") BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export IRISX_BIN=$build/irisx IRISX_SOURCE_DIR=${IRISX_SOURCE_DIR:-$src}
# shellcheck source=../tests/interop/lib.sh
. "$src/tests/interop/lib.sh"
