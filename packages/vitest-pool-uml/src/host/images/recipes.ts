import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { invalidOptionsError, parseOptions, UmlError } from '../core/index.js'
import { type Recipe, recipeSchema } from './recipe-schema.js'

/**
 * The build copies the repository's `images/*.json` into `dist/host/images/recipes/`. Run from
 * the source tree (tests import `src/`), that copy does not exist, so the originals are read instead.
 */
const RECIPE_DIRS = [new URL('./recipes/', import.meta.url), new URL('../../../../../images/', import.meta.url)]

/** All recipes shipped with this package, sorted by name. */
export async function listRecipes(): Promise<Recipe[]> {
  const dir = await findRecipeDir()
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json')).sort()
  return Promise.all(
    files.map(async (file) => parseRecipe(file.slice(0, -'.json'.length), await readFile(new URL(file, dir), 'utf8'))),
  )
}

export async function findRecipe(name: string): Promise<Recipe | undefined> {
  return (await listRecipes()).find((recipe) => recipe.name === name)
}

/** Validates one recipe file's text; a broken recipe is a packaging bug, reported with the zod issues. */
export function parseRecipe(name: string, text: string): Recipe {
  const invalid = { subject: `The image recipe ${name}.json is invalid`, fix: 'Fix the file.', details: { name } }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw invalidOptionsError(`it is not valid JSON (${(cause as Error).message})`, invalid)
  }
  return { name, ...parseOptions(recipeSchema, json, invalid) }
}

async function findRecipeDir(): Promise<URL> {
  for (const dir of RECIPE_DIRS) {
    try {
      await readdir(dir)
      return dir
    } catch {}
  }
  const searched = RECIPE_DIRS.map((dir) => fileURLToPath(dir))
  throw new UmlError(
    'UML_IMAGE_UNKNOWN',
    `No image recipes found (looked in ${searched.join(' and ')}). Rebuild vitest-pool-uml so dist/host/images/recipes/ exists.`,
    { details: { searched } },
  )
}

/** The error for a name that is neither a recipe nor (where imports count) an imported image. */
export async function unknownImageError(name: string, hint = ''): Promise<UmlError> {
  const names = (await listRecipes()).map((recipe) => recipe.name)
  return new UmlError(
    'UML_IMAGE_UNKNOWN',
    `There is no image recipe named "${name}". Recipes: ${names.join(', ')}.${hint ? ` ${hint}` : ''}`,
    { details: { name, recipes: names } },
  )
}
