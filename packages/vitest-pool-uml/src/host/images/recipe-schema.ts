import { z } from 'zod'

/** mmdebstrap variants that produce a bootable root file system (not `extract` or `custom`). */
const VARIANTS = ['essential', 'apt', 'minbase', 'buildd', 'required', 'important', 'standard'] as const

/** A recipe file in the repository's `images/` directory: what mmdebstrap should install. */
export const recipeSchema = z.strictObject({
  suite: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a Debian suite name such as "bookworm"'),
  variant: z.enum(VARIANTS),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name')).default([]),
  description: z.string().min(1),
})

export type RecipeFile = z.infer<typeof recipeSchema>

export interface Recipe extends RecipeFile {
  /** The image name: the recipe file's name without `.json`. */
  name: string
}
