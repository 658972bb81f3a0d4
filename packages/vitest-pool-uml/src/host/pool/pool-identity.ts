/** The pool's name: `--pool=uml`, and what Vitest knows its workers and file tasks by. */
export const POOL_NAME = 'uml'

/** Module fetches answer with code, not with paths to host cache files the guest cannot see. */
export const CACHE_FS = false
