#!/bin/sh
# tests/deps.sh — installs the Debian packages corridor needs to build, run
# and test (make deps).  Idempotent; does nothing when all are present.
set -e
PKGS="build-essential pkg-config git ca-certificates xz-utils gzip sqlite3 python3
 libglib2.0-dev libgmime-3.0-dev libetpan-dev libxapian-dev libsqlite3-dev
 libcurl4-gnutls-dev libjson-glib-dev libxml2-dev libarchive-dev liblzma-dev zlib1g-dev
 libsystemd-dev libmicrohttpd-dev
 clang libclang-rt-14-dev
 notmuch postfix swaks bc"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all installed"; exit 0; }
echo "deps: installing:$missing"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
# Postfix: installed unconfigured (the tests run their own private instances;
# the system's own Postfix is not started or touched)
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
