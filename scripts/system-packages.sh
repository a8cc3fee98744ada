#!/usr/bin/env bash
# Install the Debian packages the suite needs, only those missing: PostgreSQL, Redis,
# Chromium and its driver (browser tests), wrk (benchmarks), Node.js (jose, oidc-provider),
# curl and jq (the docs' runnable examples, tests/docs).
set -euo pipefail
wanted=(postgresql redis-server chromium chromium-driver wrk nodejs npm curl jq)
missing=()
for package in "${wanted[@]}"; do
  case "$package" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "system: installing ${missing[*]}"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
