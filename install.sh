#!/usr/bin/env bash
# Sets up haraka-mailgw on Debian 12: the Debian packages it runs with (ClamAV's clamd, Redis and
# tools used by tests), the node modules and the build. Safe to run again: it installs only what
# is missing. Without root it installs nothing system-wide and prints the apt-get command to run.
set -uo pipefail

cd "$(dirname "$0")"

# Debian packages: clamd and its test files, Redis, rspamd (the optional content engine), and
# the SMTP and archive tools used by tests and benchmarks. Binaries only: the gateway and the
# tests start private clamd, Redis and rspamd instances themselves.
PACKAGES=(clamav-daemon clamav-freshclam clamav-testfiles redis-server rspamd swaks zip unzip p7zip-full)
NODE_MAJOR_MIN=20

did=()
failed=()
say() { printf 'install.sh: %s\n' "$*"; }

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

# 1. Node.js
if ! command -v node >/dev/null 2>&1; then
  say "Node.js is not installed. Install Node.js ${NODE_MAJOR_MIN} or later (Debian 12's nodejs package is 18, too old for Haraka 3.3), then run this script again."
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt "$NODE_MAJOR_MIN" ]; then
  say "Node.js $(node --version) is too old: Haraka 3.3 needs ${NODE_MAJOR_MIN} or later."
  exit 1
fi

# 2. Debian packages
missing=$(missing_packages)
if [ -z "$missing" ]; then
  say "Debian packages already installed: ${PACKAGES[*]}"
elif [ "$(id -u)" -ne 0 ]; then
  say "not running as root, so these Debian packages were not installed: $missing"
  say "install them with: sudo apt-get install -y $missing"
  failed+=("Debian packages: $missing")
else
  say "installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # Debian starts clamav-daemon and redis-server after installing them where systemd runs; the
  # gateway does not use those system instances, and their start failing must not fail the install.
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; then
    did+=("installed $missing")
  else
    failed+=("apt-get install $missing")
  fi
fi

# 3. Node modules and build
if [ -f package-lock.json ]; then npm_cmd=(npm ci --no-audit --no-fund); else npm_cmd=(npm install --no-audit --no-fund); fi
if [ -d node_modules/Haraka ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  say "node modules are up to date"
elif "${npm_cmd[@]}"; then
  did+=("installed node modules")
else
  failed+=("${npm_cmd[*]}")
fi

if npm run --silent build; then
  did+=("built dist/")
else
  failed+=("npm run build")
fi

# 4. ClamAV signatures: the bundled offline database always works; freshclam's real databases
# are used when they can be downloaded.
if [ -x clamav/setup-databases.sh ]; then
  if clamav/setup-databases.sh; then did+=("prepared ClamAV databases"); else failed+=("clamav/setup-databases.sh"); fi
fi

echo
[ ${#did[@]} -gt 0 ] && say "done: $(IFS=';'; echo "${did[*]}")"
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: $(IFS=';'; echo "${failed[*]}")"
  exit 1
fi
say "ready. Start the gateway with: npm start"
