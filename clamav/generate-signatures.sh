#!/usr/bin/env bash
# Regenerates the bundled offline test signatures in clamav/db/ (committed, so no step at install time).
#
# The database lets clamd start and detect the standard test objects without freshclam or internet.
#   mailgw-test.ndb  body signatures (hex of a byte string, matched anywhere in any file type):
#                    - the EICAR test string
#                    - a string inside clam.exe from Debian's clamav-testfiles, found again after clamd
#                      unpacks the archive, packer and mail variants of it
#                    - a marker reported under a PUA.* name, so the av/suspicious path can be tested
#   mailgw-test.hdb  whole-file MD5 signatures (md5:size:name, as `sigtool --md5 FILE` prints them),
#                    one for every file of clamav-testfiles, so those files match even when unpacking is
#                    switched off or a limit stops it.
# clamd reports names from non-official databases with ".UNOFFICIAL" appended,
# e.g. "MailGW.Test.EICAR.UNOFFICIAL".
#
# usage: clamav/generate-signatures.sh [TESTFILES_DIR]    (default /usr/share/clamav-testfiles)
# needs: coreutils (md5sum, od), Debian package clamav-testfiles; checks the result with clamscan if present.
set -euo pipefail

testfiles=${1:-/usr/share/clamav-testfiles}
out=$(cd "$(dirname "$0")" && pwd)/db
[ -r "$testfiles/clam.exe" ] || { echo "clam.exe not found in $testfiles: install clamav-testfiles or pass its directory" >&2; exit 1; }
mkdir -p "$out"

hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# The EICAR string is assembled from two halves so this script is not itself detected as EICAR.
eicar_head='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-'
eicar_tail='ANTIVIRUS-TEST-FILE!$H+H*'

{
  echo "MailGW.Test.EICAR:0:*:$(hex "$eicar_head$eicar_tail")"
  # "CLAMessageBoxA" is clam.exe's import string and survives every packer used by clamav-testfiles.
  echo "MailGW.Test.ClamAVTestFile:0:*:$(hex 'CLAMessageBoxA')"
  echo "PUA.MailGW.Test.Marker:0:*:$(hex 'MAILGW-TEST-PUA-MARKER-8d1e')"
} > "$out/mailgw-test.ndb.new"

: > "$out/mailgw-test.hdb.new"
for f in "$testfiles"/*; do
  [ -f "$f" ] || continue
  name=$(basename "$f" | tr -c 'A-Za-z0-9\n' '_')
  md5=$(md5sum "$f" | cut -d' ' -f1)
  size=$(stat -c %s "$f")
  echo "$md5:$size:MailGW.Test.ClamAVTestFile.$name" >> "$out/mailgw-test.hdb.new"
done

# Check before replacing: every signature must load and every test file must be detected.
if command -v clamscan >/dev/null; then
  check=$(mktemp -d)
  trap 'rm -rf "$check"' EXIT
  cp "$out/mailgw-test.ndb.new" "$check/mailgw-test.ndb"
  cp "$out/mailgw-test.hdb.new" "$check/mailgw-test.hdb"
  detected=$(clamscan --no-summary --infected -d "$check" "$testfiles" | grep -c ' FOUND$' || true)
  total=$(find "$testfiles" -maxdepth 1 -type f | wc -l)
  [ "$detected" -eq "$total" ] || { echo "only $detected of $total files in $testfiles detected; signatures not replaced" >&2; exit 1; }
fi

mv "$out/mailgw-test.ndb.new" "$out/mailgw-test.ndb"
mv "$out/mailgw-test.hdb.new" "$out/mailgw-test.hdb"
echo "wrote $out/mailgw-test.ndb ($(wc -l < "$out/mailgw-test.ndb") signatures) and $out/mailgw-test.hdb ($(wc -l < "$out/mailgw-test.hdb") signatures)"
