// Forked in a guest by measure-kernels.ts: loads Vitest's worker entry (given as the argument) the
// way a pool worker starts, then says so over its IPC channel.
const [entry] = process.argv.slice(2)
if (entry) await import(entry)
process.send?.('loaded')
