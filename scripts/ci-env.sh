# Sourced by .ci/run and scripts/ci-matrix.sh.
# PQ_CACHE_DIR: where the Node binaries (ci-matrix), PostgreSQL 18 (testkit) and
# the compiler cache live, outside the repo; the same default as testkit's
# cacheDir(): as root /var/cache/persistent-queue (the postgres OS user must reach
# PostgreSQL 18 there, and /root is closed to it), else ~/.cache/persistent-queue.
if [[ -z ${PQ_CACHE_DIR:-} ]]; then
  if [[ $(id -u) == 0 ]]; then PQ_CACHE_DIR=/var/cache/persistent-queue
  else PQ_CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/persistent-queue
  fi
fi
export PQ_CACHE_DIR
# node-gyp compiles through ccache when it is installed (CC/CXX left alone if set):
# better-sqlite3 is built once per Node line, and its SQLite amalgamation (most of
# the compile) is the same on every line, so only the first build compiles it.
if command -v ccache >/dev/null 2>&1 && [[ -z ${CC:-} && -z ${CXX:-} ]]; then
  export CCACHE_DIR=${CCACHE_DIR:-$PQ_CACHE_DIR/ccache}
  export CC="ccache cc" CXX="ccache c++"
fi
