import { describe, expect, test } from 'vitest'
import * as lib from '../lib/index.js'

// Imports the whole generated library (bench/src/generate-library.ts), as a library's own tests do.
const modules = Object.values(lib)

describe('generated library, slice 2', () => {
  for (let i = 1 * 25; i < 2 * 25; i++) {
    test(`module ${i}`, () => {
      const module = modules[i]!
      expect(module.f3(i + 1)).toBeGreaterThan(0)
      expect(module[`describe${i}` as keyof typeof module]).toBeTypeOf('function')
    })
  }
})
