import { z } from 'zod'
import { hostMemoryMiB, isUmlError } from '../core/index.js'
import { GUEST_DEFAULTS, networkSchema } from '../guest/index.js'
import { DEFAULT_IMAGE, IMAGE_NAME_PATTERN, isImageRef, parseImageRef } from '../images/index.js'
import {
  BUILTIN_RECIPE_PREFIX,
  DEFAULT_KERNEL,
  KERNEL_NAME_PATTERN,
  KERNEL_NAMES,
  kernelRecipeSchema,
} from '../kernels/index.js'

const HOST_MEMORY_MIB = hostMemoryMiB()

const shareSchema = z.object({
  /** Absolute host path; the guest sees it at the same path. */
  path: z.string().startsWith('/', 'must be an absolute path'),
  /** Read-only unless set. */
  writable: z.boolean().default(false),
})

/** An image's name, or a registry reference (`docker.io/library/alpine:3.21`), which must parse as one. */
const imageSchema = z
  .string()
  .min(1)
  .superRefine((image, context) => {
    if (!isImageRef(image)) return
    try {
      parseImageRef(image)
    } catch (error) {
      if (!isUmlError(error)) throw error
      context.addIssue({ code: 'custom', message: error.shortMessage })
    }
  })

/** A list of distinct names: two equal entries would make two Vitest projects of one name. */
const distinctNames = (what: string, item: z.ZodType<string> = z.string().min(1)) =>
  z
    .array(item)
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
    image: distinctNames('image', imageSchema).optional(),
  })
  .strict()

const imageRecipeSchema = z
  .strictObject({
    /** Build with mmdebstrap (minbase) from this Debian suite, e.g. `bookworm`. */
    suite: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'a Debian suite name such as "bookworm"')
      .optional(),
    /** Debian packages to add at build time (needs `suite`; from another image, install them in `setup`). */
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name')).default([]),
    /** Start from this image instead of a suite. */
    from: z.string().optional(),
    /** Shell script run once as root in a guest of the image, to make this one (`sh -e`). */
    setup: z.string().optional(),
    /** The setup script's network, as the `network` option (none by default). */
    network: networkSchema.optional(),
  })
  .refine((recipe) => !(recipe.suite && recipe.from), 'give either suite or from, not both')
  .refine(
    (recipe) => recipe.packages.length === 0 || recipe.suite,
    'packages need a suite (from another image, install them in setup, with network)',
  )

/** Options of `uml()` and `umlPool()`. */
export const poolOptionsSchema = z
  .object({
    /**
     * Guest kernel: a pinned Debian kernel (`vitest-uml kernels list`), a kernel built from source
     * (`custom-7.2`, or one of `kernels`), or one built with `vitest-uml kernels build`.
     * @default DEFAULT_KERNEL of `vitest-pool-uml/api`, the manifest's default
     */
    kernel: z.string().default(DEFAULT_KERNEL),
    /**
     * This project's own kernels, by name: built from a pinned Debian source (`source: '7.2'`) or a
     * source tarball (`{ url, sha256 }`, `{ path, sha256 }`), with a config fragment over the
     * default guest config (`config`: a file path, relative to the project root, or its lines).
     * Each is built once and cached by its source and config.
     */
    kernels: z
      .record(
        z
          .string()
          .regex(KERNEL_NAME_PATTERN, 'lower-case letters, digits, dots, dashes')
          .refine(
            (name) => !KERNEL_NAMES.includes(name) && !name.startsWith(BUILTIN_RECIPE_PREFIX),
            `a name of your own: not a pinned kernel (${KERNEL_NAMES.join(', ')}) and not starting with ${BUILTIN_RECIPE_PREFIX}`,
          ),
        kernelRecipeSchema,
      )
      .default({}),
    /**
     * `'virtual'` runs guests in UML's time-travel mode: a guest that is idle waiting for a timer
     * jumps to it (`sleep 3600` returns at once). `testTimeout`, `hookTimeout` and `fileTimeout`
     * still count host time. Needs a kernel built with time travel, such as `custom-7.2`.
     * @default 'real'
     */
    time: z.enum(['real', 'virtual']).default('real'),
    /**
     * The date each guest's clock reads when its first test file starts (an ISO date such as
     * `'2038-01-19T03:14:08Z'`), with any kernel; by default the host's.
     */
    clock: z
      .string()
      .refine((value) => !Number.isNaN(Date.parse(value)), 'an ISO date such as "2038-01-19T03:14:08Z"')
      .optional(),
    /**
     * Guest image: a recipe (`vitest-uml images list`), an imported image, one of this
     * project's `images`, or an OCI registry reference (`docker.io/library/alpine:3.21`), pulled
     * and pinned in `vitest-uml.lock.json` beside the config.
     * @default DEFAULT_IMAGE of `vitest-pool-uml/api`
     */
    image: imageSchema.default(DEFAULT_IMAGE),
    /**
     * This project's own images, by name: built from a Debian `suite` with extra `packages`,
     * and/or made `from` another image by running a `setup` script once as root in a guest.
     * Each is cached by everything that went into it and reused by every guest.
     */
    images: z
      .record(z.string().regex(IMAGE_NAME_PATTERN, 'lower-case letters, digits, dots, dashes'), imageRecipeSchema)
      .default({}),
    /**
     * Guest memory in MiB, at most the host's. Host memory is used as the guest touches it, and
     * about 16 MiB per GiB at every boot (the kernel's table of its pages).
     * @default 1024 (or the host's memory, if less)
     */
    memory: z
      .number()
      .int()
      .min(128)
      .max(HOST_MEMORY_MIB, `more than this host has (${HOST_MEMORY_MIB} MiB); use less`)
      .default(GUEST_DEFAULTS.memoryMiB),
    /**
     * Most a guest may write to its disk, in MiB (its copy-on-write layer lives in host memory).
     * @default 4096
     */
    disk: z.number().int().min(64).default(GUEST_DEFAULTS.diskMiB),
    /**
     * `true` boots a fresh guest, with a fresh kernel, for every test file. By default each file
     * runs in a fresh session of an already booted guest (pristine root file system, project and
     * /tmp; no processes, mounts or users of an earlier file) and only kernel-wide state (sysctls,
     * loaded modules, network settings, the clock) can carry over from an earlier file: set it
     * for tests that change the kernel. Sessions save a boot per file.
     * @default false
     */
    freshKernel: z.boolean().default(false),
    /**
     * Guests kept booted ahead of need. By default Vitest's `maxWorkers`, plus one unless `isolate`
     * is false (then each worker keeps its guest for all its files).
     */
    warmGuests: z.number().int().min(0).max(64).optional(),
    /**
     * Milliseconds a guest may take to boot and report ready.
     * @default 60000
     */
    bootTimeout: z.number().int().positive().default(GUEST_DEFAULTS.bootTimeoutMs),
    /**
     * Milliseconds a test file's worker may go without a word (no test starting or ending, no
     * module loaded, no output) before its guest is deemed hung, stopped and the file failed.
     * Vitest's `testTimeout` cannot interrupt code that never yields; this can.
     * @default six times the longest of testTimeout, hookTimeout and the file's tests' own timeouts (60 s with Vitest's defaults)
     */
    fileTimeout: z.number().int().positive().optional(),
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
    /**
     * The guests' network. `false`: loopback only. `true`: outbound TCP and UDP, with DNS, through a
     * user-mode network stack on the host (never to this host itself or link-local addresses).
     * `{ allow: ['deb.debian.org', 'registry.npmjs.org:443'] }`: only these hosts (`*.domain`
     * matches under it), through an HTTP(S) proxy on the host that the guest's `http_proxy` points
     * at. `{ forward: [3000, { guest: 80, host: 8080 }] }`: ports of this host's loopback, at
     * `host.vitest-uml.internal` in the guest.
     * @default false
     */
    network: networkSchema.default(false),
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
