import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { lagFigures, type DelayHistogram } from '../src/backpressure/event-loop-monitor.js'

/** A delay histogram whose every reading is `ms` (Node reports nanoseconds). */
function steady(ms: number, count = 100): DelayHistogram {
  const ns = ms * 1e6
  return { count, max: ns, mean: ns, percentile: () => ns }
}

describe('event-loop delay figures are the lag itself, not the sampling period plus the lag', () => {
  it('an idle loop sampled every 10 ms reads about 0, not 10', () => {
    assert.deepEqual(lagFigures(steady(10.1), 10), { p50: 0.1, p90: 0.1, p99: 0.1, max: 0.1, mean: 0.1 })
  })

  it('a 200 ms block reads 200 ms, at the resolution it was sampled with', () => {
    const histogram: DelayHistogram = {
      count: 100,
      max: 210e6,
      mean: 12e6,
      percentile: (p) => (p >= 99 ? 210e6 : 10.2e6),
    }
    assert.deepEqual(lagFigures(histogram, 10), { p50: 0.2, p90: 0.2, p99: 200, max: 200, mean: 2 })
    assert.deepEqual(lagFigures(histogram, 100), { p50: 0, p90: 0, p99: 110, max: 110, mean: 0 })
  })

  it('never reads below 0 (a timer that fired early), and 0 with no sample', () => {
    assert.deepEqual(lagFigures(steady(9.5), 10), { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 })
    assert.deepEqual(lagFigures(steady(50, 0), 10), { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 })
  })
})
