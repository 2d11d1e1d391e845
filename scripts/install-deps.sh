#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are not installed yet (idempotent).
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || echo "apt-get update failed; trying the install with the cached lists" >&2
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
