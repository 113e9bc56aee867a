import { useQuery } from '@tanstack/react-query'
import { Background, Controls, MarkerType, Position, ReactFlow, type Edge, type Node } from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useMemo } from 'react'
import { useTranslation } from 'react-i18next'
import { get } from '../lib/api'

interface Diagram {
  start: string
  states: { name: string; label?: string; type: string; comment?: string }[]
  edges: { from: string; to: string; label: string; text?: string }[]
}

const COLUMN = 220
const ROW = 90

/** Layered layout: a state's column is its distance from the start (breadth first), rows in order. */
export function layout(diagram: Diagram): Record<string, { x: number; y: number }> {
  const depth: Record<string, number> = { [diagram.start]: 0 }
  const queue = [diagram.start]
  while (queue.length) {
    const at = queue.shift()!
    for (const e of diagram.edges) if (e.from === at && depth[e.to] === undefined) { depth[e.to] = depth[at] + 1; queue.push(e.to) }
  }
  const deepest = Math.max(0, ...Object.values(depth))
  const rows: Record<number, number> = {}
  const out: Record<string, { x: number; y: number }> = {}
  for (const s of diagram.states) {
    const d = depth[s.name] ?? deepest + 1 // unreachable from the start: a column of its own
    const r = (rows[d] = (rows[d] ?? -1) + 1)
    out[s.name] = { x: d * COLUMN, y: r * ROW }
  }
  return out
}

/** The workflow as a diagram (@xyflow/react): the record's current state stands out. */
export default function WorkflowDiagram({ workflow, current }: { workflow: string; current?: string }) {
  const { t } = useTranslation()
  const diagram = useQuery({ queryKey: ['diagram', workflow], queryFn: () => get<Diagram>(`/workflows/${encodeURIComponent(workflow)}/diagram`), retry: false })
  const { nodes, edges } = useMemo(() => {
    if (!diagram.data) return { nodes: [] as Node[], edges: [] as Edge[] }
    const at = layout(diagram.data)
    const kind = (type: string) => t(`stateType.${type}`, { defaultValue: type })
    const nodes: Node[] = diagram.data.states.map((s) => ({
      id: s.name, position: at[s.name], data: { label: `${s.label ?? s.name} · ${kind(s.type)}` },
      sourcePosition: Position.Right, targetPosition: Position.Left, // columns run left to right
      className: `wf-node wf-${s.type.toLowerCase()}${s.name === current ? ' wf-current' : ''}`,
      ariaLabel: `${s.label ?? s.name} (${kind(s.type)})${s.name === current ? ` — ${t('currentState')}` : ''}`,
    }))
    const edges: Edge[] = diagram.data.edges.map((e, i) => ({
      id: `${e.from}-${e.to}-${i}`, source: e.from, target: e.to, label: e.text ?? e.label.replace(/^action:/, ''),
      markerEnd: { type: MarkerType.ArrowClosed }, animated: e.from === current,
    }))
    return { nodes, edges }
  }, [diagram.data, current, t])
  if (diagram.error) return null
  return (
    <figure className="diagram" aria-label={t('workflowDiagram')}>
      <figcaption className="sr-only">{t('workflowDiagram')}{current ? ` — ${t('currentState')}: ${diagram.data?.states.find((s) => s.name === current)?.label ?? current}` : ''}</figcaption>
      <div style={{ height: 420 }}>
        <ReactFlow nodes={nodes} edges={edges} fitView fitViewOptions={{ padding: 0.1 }} minZoom={0.2} nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}>
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
    </figure>
  )
}
