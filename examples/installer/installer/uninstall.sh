#!/bin/sh
# Removes everything install.sh (or install.mjs) put on the system.
set -eu
dpkg --purge hello-docs > /dev/null
rm -f /etc/systemd/system/hello.service /usr/local/bin/hello
rm -rf /etc/hello
userdel hello
