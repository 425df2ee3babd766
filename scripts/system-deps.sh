#!/usr/bin/env bash
# Install the Debian packages the project needs, if any is missing.
#   scripts/system-deps.sh demo   PostgreSQL 15 + PostGIS 3
#   scripts/system-deps.sh test   the same, plus Chromium (browser tests) and gdal-bin (ogr2ogr)
# As root it also creates the system user `visitmap-web` (no home, no login shell) that
# `visitmap serve` runs as when started as root, so that the web service cannot read the
# registration-number key or the database password file.
set -euo pipefail
if [ "$(id -u)" = 0 ] && ! id visitmap-web >/dev/null 2>&1; then
  echo "system-deps: creating the system user visitmap-web"
  useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
    --user-group visitmap-web
fi
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
