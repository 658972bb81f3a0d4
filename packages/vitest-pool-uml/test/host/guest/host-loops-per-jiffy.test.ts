import { describe, expect, it } from 'vitest'
import { loopsPerJiffy } from '../../../src/host/guest/host-loops-per-jiffy.js'

describe('loopsPerJiffy', () => {
  it("is the host's BogoMIPS as loops per jiffy at 100 Hz (one loop per cycle, two BogoMIPS per MHz)", () => {
    const cpuinfo = 'processor\t: 0\ncpu MHz\t\t: 2445.434\nbogomips\t: 4890.87\nprocessor\t: 1\nbogomips\t: 4890.87\n'
    // 2445.435 MHz: 24,454,350 cycles in a 10 ms jiffy.
    expect(loopsPerJiffy(cpuinfo)).toBe(24_454_350)
  })

  it('is undefined where the host gives no BogoMIPS, so the guest calibrates as before', () => {
    expect(loopsPerJiffy('processor\t: 0\nmodel name\t: something\n')).toBeUndefined()
    expect(loopsPerJiffy('bogomips\t: 0.00\n')).toBeUndefined()
  })
})
