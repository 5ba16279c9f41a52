#!/usr/bin/env bash
# deps.sh - install the Debian packages thresh needs to build and test,
# only those that are missing. Needs root (or sudo) when something is missing.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc liblmdb-dev libsodium-dev libutf8proc-dev
      libcriterion-dev libmicrohttpd-dev python3 curl openssl
      apache2 apache2-dev php-cli    # the Apache module and the PHP plugins, with their tests
      bogofilter                     # the side-by-side benchmark (tests/bench) and its smoke test
      # the real WordPress stack (tests/wordpress): MariaDB, Apache with mod_php,
      # Debian's WordPress with its bundled Akismet plugin, headless Chromium;
      # the tests start their own servers in their own namespaces (unshare, ip)
      mariadb-server mariadb-client libapache2-mod-php php-mysql wordpress
      wordpress-theme-twentytwentyone chromium fonts-dejavu-core util-linux iproute2
      libhiredis-dev redis-server     # the cluster (shared rate limits, the training log) and its tests
      dpkg-dev debhelper fakeroot lintian)   # the Debian packages (debian/, tests/packaging)
# node and npm (the Akismet clients of tests/daemon, playwright-core of
# tests/wordpress): Debian's, unless a node with its npm is already there
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
