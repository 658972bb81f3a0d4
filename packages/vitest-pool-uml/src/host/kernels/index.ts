export { type BuildKernelOptions, buildKernel } from './build-kernel.js'
export { builtKernelsRoot } from './built-kernels.js'
export {
  type ConfigOptions,
  findLostOptions,
  formatConfig,
  type LostOption,
  mergeConfigFragments,
  parseConfigFragment,
} from './config-fragment.js'
export { fetchKernel } from './fetch-kernel.js'
export { GUEST_CONFIG, type GuestConfigOption, guestConfigLines } from './guest-config.js'
export { getInstalledKernel, type KernelListing, listKernels } from './installed-kernels.js'
export type { InstalledKernel, KernelMetadata } from './kernel-entry.js'
export {
  type BuiltKernelListing,
  ensureKernel,
  type KernelLookupOptions,
  listBuiltKernels,
  resolveKernel,
} from './kernel-lookup.js'
export type { CacheOptions, FetchKernelOptions } from './kernel-options.js'
export { DEFAULT_KERNEL, getKernelPin, KERNEL_NAMES } from './kernel-pins.js'
export {
  BUILTIN_RECIPE_PREFIX,
  builtinRecipeNames,
  KERNEL_BUILDER_VERSION,
  KERNEL_NAME_PATTERN,
  type KernelRecipe,
  kernelRecipeSchema,
  recipeHash,
  resolveRecipe,
} from './kernel-recipe.js'
export { MANIFEST, parseManifest } from './manifest.js'
export type { DebPin, KernelPin, Manifest, SourcePin } from './manifest-schema.js'
