#!/usr/bin/env bash
# Install the Debian packages the project needs, if any is missing.
#   scripts/system-deps.sh demo   PostgreSQL 15 + PostGIS 3
#   scripts/system-deps.sh test   the same, plus Chromium (browser tests) and gdal-bin (ogr2ogr)
set -euo pipefail
want=(postgresql-15 postgresql-15-postgis-3)
if [ "${1:-demo}" = test ]; then want+=(chromium chromium-driver gdal-bin); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
  echo "system-deps: run as root: apt-get install -y ${missing[*]}" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
