#!/usr/bin/env bash
# Prepares var/clamav-db, the signature directory of the private clamd that `mailgw start` runs
# with [mailgw.local] Clamd=true. It tries freshclam first, with a short time limit because the
# machine may have no internet access; when that fails, it copies the bundled offline signatures
# (clamav/db), which detect only test objects. It prints which one it used, and writes it to
# var/clamav-db/SOURCE. The bundled test signatures are copied in both cases, so the tests'
# EICAR and clamav-testfiles detections keep working with the official databases too.
#
# Usage: clamav/setup-databases.sh   (FRESHCLAM_TIMEOUT=seconds, default 120)
set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
target="$root/var/clamav-db"
timeout_s=${FRESHCLAM_TIMEOUT:-120}
say() { printf 'setup-databases: %s\n' "$*"; }

mkdir -p "$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source=bundled
if command -v freshclam >/dev/null 2>&1; then
  # A private freshclam config: nothing under /etc/clamav or /var/lib/clamav is read or written.
  # DatabaseOwner is the current user, because freshclam run as root would otherwise switch to
  # the clamav user, which cannot write to this temporary directory.
  cat >"$work/freshclam.conf" <<CONF
DatabaseDirectory $work/db
UpdateLogFile $work/freshclam.log
DatabaseMirror database.clamav.net
ConnectTimeout 10
ReceiveTimeout 30
MaxAttempts 1
Foreground yes
DatabaseOwner $(id -un)
CONF
  mkdir -p "$work/db"
  say "trying freshclam (at most ${timeout_s}s)"
  if timeout "$timeout_s" freshclam --config-file="$work/freshclam.conf" --stdout --quiet >"$work/out.log" 2>&1 \
    && ls "$work/db"/main.c[vl]d "$work/db"/daily.c[vl]d >/dev/null 2>&1; then
    source=freshclam
  else
    say "freshclam could not fetch the databases: $(tail -n 1 "$work/out.log" 2>/dev/null || echo 'no output')"
  fi
fi

# Replace the directory content only after the new set is complete.
rm -f "$target"/*.cvd "$target"/*.cld "$target"/*.cud "$target"/*.ndb "$target"/*.hdb "$target"/*.ldb "$target"/SOURCE
if [ "$source" = freshclam ]; then
  cp "$work/db"/*.c[vlu]d "$target"/
fi
cp clamav/db/*.ndb clamav/db/*.hdb "$target"/
echo "$source" >"$target/SOURCE"

if [ "$source" = freshclam ]; then
  say "using freshclam's official databases in $target (plus the bundled test signatures)"
else
  say "using the bundled offline test signatures in $target: they detect only test files, not real malware; run this script again with internet access for the official databases"
fi
