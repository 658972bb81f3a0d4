#!/usr/bin/env node
// Installs "hello-download" by downloading it from the release server (RELEASE_URL), as installers
// that fetch their payload do. Needs root and a network that reaches the server.
import { chmodSync, writeFileSync } from 'node:fs'

const release = process.env.RELEASE_URL ?? 'http://host.vitest-uml.internal:8080'
const response = await fetch(`${release}/hello-download`)
if (!response.ok) throw new Error(`download failed: ${response.status} ${response.statusText}`)
writeFileSync('/usr/local/bin/hello-download', Buffer.from(await response.arrayBuffer()))
chmodSync('/usr/local/bin/hello-download', 0o755)
