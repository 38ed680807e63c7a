# Shared by the project's scripts: find Go and make sure the tools the
# tests need are installed. Source it; it does not run anything else.

# Go: on PATH, or where the official tarball installs it.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed: see https://go.dev/doc/install" >&2
  exit 1
fi
export PATH="$PATH:$(go env GOPATH)/bin"

# need_packages CMD:PACKAGE... installs each Debian PACKAGE whose CMD is
# missing, when running as root; otherwise it says what to install. A CMD
# that is an absolute path is a file the package installs.
need_packages() {
  local missing=() pair cmd
  for pair in "$@"; do
    cmd=${pair%%:*}
    case $cmd in
      /*) [ -e "$cmd" ] ;;
      *) command -v "$cmd" >/dev/null 2>&1 ;;
    esac || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}; install them (as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
}
