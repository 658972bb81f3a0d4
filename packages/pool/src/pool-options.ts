import { hostMemoryMiB } from '@vitest-uml/core'
import { IMAGE_NAME_PATTERN } from '@vitest-uml/images'
import { z } from 'zod'

const HOST_MEMORY_MIB = hostMemoryMiB()

const shareSchema = z.object({
  /** Absolute host path; the guest sees it at the same path. */
  path: z.string().startsWith('/', 'must be an absolute path'),
  /** Read-only unless set. */
  writable: z.boolean().default(false),
})

/** A list of distinct names: two equal entries would make two Vitest projects of one name. */
const distinctNames = (what: string) =>
  z
    .array(z.string().min(1))
    .min(1, `list at least one ${what}`)
    .refine((names) => new Set(names).size === names.length, `list each ${what} once`)

const matrixSchema = z
  .object({
    /**
     * Kernels to run every test file on.
     * @default [kernel]
     */
    kernel: distinctNames('kernel').optional(),
    /**
     * Images to run every test file on.
     * @default [image]
     */
    image: distinctNames('image').optional(),
  })
  .strict()

const imageRecipeSchema = z
  .strictObject({
    /** Build with mmdebstrap (minbase) from this Debian suite, e.g. `bookworm`. */
    suite: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'a Debian suite name such as "bookworm"')
      .optional(),
    /** Debian packages to add at build time (needs `suite`: guests have no network). */
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name')).default([]),
    /** Start from this image instead of a suite. */
    from: z.string().optional(),
    /** Shell script run once as root in a guest of the image, to make this one (`sh -e`). */
    setup: z.string().optional(),
  })
  .refine((recipe) => !(recipe.suite && recipe.from), 'give either suite or from, not both')
  .refine(
    (recipe) => recipe.packages.length === 0 || recipe.suite,
    'packages need a suite (guests have no network; install in setup from a suite image)',
  )

/** Options of `uml()` and `umlPool()`. */
export const poolOptionsSchema = z
  .object({
    /**
     * Guest kernel: `5.10`, `6.1`, `6.12` or `7.2`.
     * @default '7.2'
     */
    kernel: z.string().default('7.2'),
    /**
     * Guest image: a recipe (`debian-bullseye`, `debian-bookworm`, `debian-trixie`, `debian-sid`),
     * an imported image, or one of this project's `images`.
     * @default 'debian-trixie'
     */
    image: z.string().default('debian-trixie'),
    /**
     * This project's own images, by name: built from a Debian `suite` with extra `packages`,
     * and/or made `from` another image by running a `setup` script once as root in a guest.
     * Each is cached by everything that went into it and reused by every guest.
     */
    images: z
      .record(z.string().regex(IMAGE_NAME_PATTERN, 'lower-case letters, digits, dots, dashes'), imageRecipeSchema)
      .default({}),
    /**
     * Guest memory in MiB, at most the host's. Host memory is only used as the guest touches it.
     * @default 512
     */
    memory: z
      .number()
      .int()
      .min(128)
      .max(HOST_MEMORY_MIB, `more than this host has (${HOST_MEMORY_MIB} MiB); use less`)
      .default(512),
    /**
     * Most a guest may write to its disk, in MiB (its copy-on-write layer lives in host memory).
     * @default 4096
     */
    disk: z.number().int().min(64).default(4096),
    /**
     * Guests kept booted ahead of need. By default Vitest's `maxWorkers` plus one.
     */
    warmGuests: z.number().int().min(0).max(64).optional(),
    /**
     * Milliseconds a guest may take to boot and report ready.
     * @default 60000
     */
    bootTimeout: z.number().int().positive().default(60_000),
    /**
     * Milliseconds a test file may run before its guest is deemed hung, stopped and the file failed.
     * Vitest's `testTimeout` cannot interrupt code that never yields; this can.
     * @default 600000
     */
    fileTimeout: z.number().int().positive().default(600_000),
    /**
     * Guest user the tests run as.
     * @default 'root'
     */
    user: z.string().min(1).default('root'),
    /**
     * More host directories for the guest, read-only unless `writable`. The project, and the
     * `node_modules` that Vitest and this pool are loaded from, are shared read-only already.
     */
    shares: z.array(shareSchema).default([]),
    /** Environment variables for the test workers inside the guest, over Vitest's own. */
    env: z.record(z.string(), z.string()).default({}),
    /**
     * Runs the project's tests on every kernel × image, each pair (cell) a Vitest project named
     * `<image>@<kernel>`, and prints a table of the cells' results. Only the `uml()` plugin reads it.
     * Each cell keeps one guest warm unless `warmGuests` is set.
     */
    matrix: matrixSchema.optional(),
  })
  .strict()

export type UmlPoolOptions = z.input<typeof poolOptionsSchema>
export type UmlMatrixOptions = z.input<typeof matrixSchema>
export type ResolvedPoolOptions = z.output<typeof poolOptionsSchema>
export type ImageRecipe = z.output<typeof imageRecipeSchema>
