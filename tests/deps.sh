#!/bin/sh
# tests/deps.sh — installs the Debian packages corridor needs to build, run
# and test (make deps), and the npm packages of the browser tests
# (tests/browser/package.json: playwright-core and axe-core; never a browser
# download: the tests drive Debian's chromium).  Idempotent.
set -e
PKGS="build-essential pkg-config git ca-certificates xz-utils gzip sqlite3 python3
 libglib2.0-dev libgmime-3.0-dev libetpan-dev libxapian-dev libsqlite3-dev
 libcurl4-gnutls-dev libjson-glib-dev libxml2-dev libarchive-dev liblzma-dev zlib1g-dev
 libsystemd-dev libmicrohttpd-dev
 clang libclang-rt-14-dev valgrind
 notmuch postfix swaks bc curl
 chromium fonts-liberation"
# node and npm: Debian's, unless a node is installed already (NodeSource's
# nodejs package brings its own npm and conflicts with Debian's npm)
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    # Postfix: installed unconfigured (the tests run their own private
    # instances; the system's own Postfix is not started or touched)
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
else
    echo "deps: all Debian packages installed"
fi
# the browser tests' npm packages, pinned by tests/browser/package-lock.json
dir=$(dirname "$0")/browser
if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules/playwright-core" -o ! -d "$dir/node_modules/axe-core" -o "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "deps: npm packages for tests/browser"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
fi
