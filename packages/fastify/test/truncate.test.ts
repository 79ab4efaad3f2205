import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { printable } from '../src/debug/text-table.js'
import { TaskNameLabels } from '../src/metrics/task-name-labels.js'
import { truncate } from '../src/truncate.js'

describe('cutting long text with an ellipsis', () => {
  it('keeps text of at most max characters, and cuts longer text to max with … as the last one', () => {
    assert.equal(truncate('abcde', 5), 'abcde')
    assert.equal(truncate('abcdef', 5), 'abcd…')
    assert.equal(truncate('', 1), '')
  })

  it('bounds a task name used as a metric label, and a cell of a text table', () => {
    const label = new TaskNameLabels(10).label('n'.repeat(300))
    assert.equal(label.length, 100)
    assert.ok(label.endsWith('…'))
    assert.equal(printable('c'.repeat(30), 12), `${'c'.repeat(11)}…`)
  })
})
