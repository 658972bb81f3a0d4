#!/bin/sh
# Installs "hello", a made-up tool: a system user, its config, its binary, a systemd unit, and its
# documentation as a Debian package. Needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin hello
install -d -m 0755 /etc/hello
printf 'greeting = hello\nuser = hello\n' > /etc/hello/hello.conf
chmod 0644 /etc/hello/hello.conf
install -m 0755 "$here/hello" /usr/local/bin/hello
cat > /etc/systemd/system/hello.service <<'UNIT'
[Unit]
Description=hello, a made-up daemon

[Service]
User=hello
ExecStart=/usr/local/bin/hello --serve

[Install]
WantedBy=multi-user.target
UNIT

# The documentation, packaged as a .deb built here and installed with dpkg.
build=$(mktemp -d)
mkdir -p "$build/DEBIAN" "$build/usr/share/doc/hello-docs"
printf 'Package: hello-docs\nVersion: 1.0\nArchitecture: all\nMaintainer: nobody <nobody@example.invalid>\nDescription: hello documentation\n' > "$build/DEBIAN/control"
printf 'hello greets.\n' > "$build/usr/share/doc/hello-docs/README"
dpkg-deb --root-owner-group --build "$build" /tmp/hello-docs.deb > /dev/null
dpkg -i /tmp/hello-docs.deb > /dev/null
rm -rf "$build" /tmp/hello-docs.deb
