#!/usr/bin/env node
// Committed, unlike dist/, so that installing the workspace can link the bin before anything is built.
import { main } from '../dist/host/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
