import { describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import { recipeImageHash } from '../../../src/host/images/image-hash.js'
import { DEFAULT_IMAGE, listRecipes } from '../../../src/host/images/index.js'
import { parseRecipe } from '../../../src/host/images/recipes.js'

const valid = { suite: 'bookworm', variant: 'minbase', packages: [], description: 'Debian 12' }

describe('recipes', () => {
  it('ships the four Debian suites, including the default image', async () => {
    const recipes = await listRecipes()
    expect(recipes.map((recipe) => [recipe.name, recipe.suite])).toEqual([
      ['debian-bookworm', 'bookworm'],
      ['debian-bullseye', 'bullseye'],
      ['debian-sid', 'sid'],
      ['debian-trixie', 'trixie'],
    ])
    expect(recipes.map((recipe) => recipe.name)).toContain(DEFAULT_IMAGE)
    for (const recipe of recipes) expect(recipe.variant).toBe('minbase')
  })

  it('defaults packages to none', () => {
    const { packages: _, ...withoutPackages } = valid
    expect(parseRecipe('x', JSON.stringify(withoutPackages)).packages).toEqual([])
  })

  it.each([
    ['an unknown field', { ...valid, pakages: ['curl'] }, 'pakages'],
    ['a bad suite', { ...valid, suite: 'Bookworm; rm -rf' }, 'suite'],
    ['a bad package name', { ...valid, packages: ['--foo'] }, 'packages.0'],
    ['an unsupported variant', { ...valid, variant: 'extract' }, 'variant'],
  ])('rejects %s, naming the field', (_label, recipe, field) => {
    let error: unknown
    try {
      parseRecipe('broken', JSON.stringify(recipe))
    } catch (caught) {
      error = caught
    }
    expect(isUmlError(error, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((error as Error).message).toContain('broken.json')
    expect((error as Error).message).toContain(field)
  })

  it('rejects text that is not JSON', () => {
    expect(() => parseRecipe('broken', '{ suite: bookworm')).toThrow(/not valid JSON/)
  })
})

describe('recipe hashes', () => {
  const base = parseRecipe('debian-bookworm', JSON.stringify(valid))

  it('is 16 hex digits and stable', () => {
    expect(recipeImageHash(base)).toMatch(/^[0-9a-f]{16}$/)
    expect(recipeImageHash({ ...base })).toBe(recipeImageHash(base))
  })

  it('changes with what gets installed', () => {
    const hashes = new Set([
      recipeImageHash(base),
      recipeImageHash({ ...base, suite: 'trixie' }),
      recipeImageHash({ ...base, variant: 'apt' }),
      recipeImageHash({ ...base, packages: ['curl'] }),
    ])
    expect(hashes.size).toBe(4)
  })

  it('ignores the description and the name', () => {
    expect(recipeImageHash({ ...base, description: 'reworded' })).toBe(recipeImageHash(base))
    expect(recipeImageHash({ ...base, name: 'other' })).toBe(recipeImageHash(base))
  })
})
