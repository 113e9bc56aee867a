import { describe, expect, it } from 'vitest'
import { layout } from './WorkflowDiagram'

describe('workflow diagram layout', () => {
  it('puts each state in the column of its distance from the start, unreachable ones last', () => {
    const at = layout({
      start: 'A',
      states: [{ name: 'A', type: 'Task' }, { name: 'B', type: 'Task' }, { name: 'C', type: 'Choice' }, { name: 'D', type: 'Succeed' }, { name: 'Z', type: 'Fail' }],
      edges: [{ from: 'A', to: 'B', label: 'x' }, { from: 'A', to: 'C', label: 'y' }, { from: 'B', to: 'D', label: 'z' }, { from: 'D', to: 'A', label: 'loop' }],
    })
    expect(at.A.x).toBe(0)
    expect(at.B.x).toBe(at.C.x)
    expect(at.B.y).not.toBe(at.C.y)
    expect(at.D.x).toBeGreaterThan(at.B.x)
    expect(at.Z.x).toBeGreaterThan(at.D.x)
  })
})
