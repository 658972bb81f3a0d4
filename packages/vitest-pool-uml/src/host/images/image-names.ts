/** Image names become directory names in the cache, so they are kept to a safe alphabet. */
export const IMAGE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/

/** The image a guest boots when none is named. */
export const DEFAULT_IMAGE = 'debian-trixie'
