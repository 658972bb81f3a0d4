#!/bin/sh
# Installs "hello-download" the way many installers do: makes sure its Debian dependency (busybox,
# for its wget) is there, then fetches the payload with it. Needs root, the Debian mirror and the
# release server.
set -eu
release=${RELEASE_URL:-http://host.vitest-uml.internal:8080}
if ! command -v busybox >/dev/null; then
  apt-get -o Acquire::Check-Valid-Until=false update -q
  apt-get install -y -q --no-install-recommends busybox
fi
busybox wget -q -O /usr/local/bin/hello-download "$release/hello-download"
chmod 0755 /usr/local/bin/hello-download
