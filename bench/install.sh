#!/usr/bin/env bash
# Installs the Debian packages only the benchmarks need, without starting any daemon:
#   postfix      for the smtp-source load generator and the smtp-sink receiver (binaries only)
#   amavisd-new  plus spamassassin, for the Postfix + amavisd-new + clamd peer row
# Package maintainer scripts would start postfix (port 25) and amavis; a policy-rc.d that exits
# 101 forbids every service start during the install, and debconf is preseeded so postfix writes
# no mail configuration. The script checks afterwards that nothing listens on port 25.
# `npm run bench` runs it first. Needs root on Debian 12 only when a package is missing. Safe to
# run again.
set -euo pipefail

packages=(postfix amavisd-new spamassassin libnet-dns-perl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "bench/install.sh: ${packages[*]} already installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "bench/install.sh: ${missing[*]} missing; run 'sudo bench/install.sh' (apt-get needs root), then the benchmark again" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by haraka-mailgw bench/install.sh: no service starts during the install\nexit 101\n' >"$policy"
  chmod 755 "$policy"; own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Stop any service that started anyway, in case a maintainer script did not ask policy-rc.d.
for unit in postfix amavis spamassassin spamd; do
  if command -v service >/dev/null && service "$unit" status >/dev/null 2>&1; then service "$unit" stop || true; fi
done
if ss -ltn 'sport = :25' | grep -q LISTEN; then
  echo "bench/install.sh: something listens on port 25 after the install; stop it before benchmarking" >&2
  ss -ltnp 'sport = :25' >&2; exit 1
fi
echo "bench/install.sh: installed ${missing[*]}; nothing listens on port 25"
