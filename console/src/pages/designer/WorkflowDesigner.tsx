// The workflow designer (/admin/workflows/:name): the published workflow as an editable diagram
// (@xyflow/react, laid out by dagre), a palette, a side panel for the selected state, the server's
// checks on the nodes and edges they concern (debounced as the author edits), a table of states and
// transitions that edits the same definition by keyboard, a dry run of an action on a chosen record
// (WorkflowDryRun, on the draft), Save as a new version, then its impact.
import { useQuery, useQueryClient } from '@tanstack/react-query'
import {
  Background, Controls, Handle, MarkerType, Position, ReactFlow, applyEdgeChanges, applyNodeChanges,
  type Connection, type Edge, type EdgeChange, type Node, type NodeChange, type NodeProps, type ReactFlowInstance,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router'
import { ApiError, get, post, type Problem } from '../../lib/api'
import './WorkflowDesigner.css'
import WorkflowImpact from './WorkflowImpact'
import WorkflowDryRun from './WorkflowDryRun'
import {
  STATE_TYPES, addState, autoLayout, connect, deleteState, disconnect, freeName, labelOf, newState, newWorkflow,
  problemsByTarget, renameState, setTarget, transitions, type Json, type StateType, type Transition, type WorkflowDef,
} from './WorkflowModel'
import WorkflowStatePanel, { validName, type FormField } from './WorkflowStatePanel'

interface Head { latest: number; published: number | null }
interface Checked { valid: boolean; problems: (Problem & { dependant?: unknown })[]; warnings: Problem[] }
type StateData = { label: string; name: string; type: string; start: boolean; problems: string[] }

function StateNode({ data }: NodeProps<Node<StateData>>) {
  return (
    <div className="wf-box">
      <Handle type="target" position={Position.Top} />
      <div className="wf-box-label">{data.label}</div>
      <div className="wf-box-meta">{data.start ? '▶ ' : ''}{data.name} · {data.type}</div>
      {data.problems.length > 0 && <span className="wf-badge" title={data.problems.join('\n')}>⚠ {data.problems.length}</span>}
      <Handle type="source" position={Position.Bottom} />
    </div>
  )
}
const nodeTypes = { state: StateNode }

async function loadVersion(kind: string, name: string): Promise<{ version: number; definition: any } | null> {
  let head: Head
  try {
    head = await get<Head>(`/definitions/${kind}/${encodeURIComponent(name)}`)
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null // none yet: a form without a workflow starts a new one
    throw e
  }
  const version = head.published ?? head.latest
  if (!version) return null
  const body = await get<{ definition: any }>(`/definitions/${kind}/${encodeURIComponent(name)}/versions/${version}`)
  return { version, definition: body.definition }
}

export default function WorkflowDesigner() {
  const { name = '' } = useParams()
  const { t, i18n } = useTranslation()
  const queries = useQueryClient()
  const base = useQuery({ queryKey: ['designer', 'workflow', name], queryFn: () => loadVersion('workflow', name), staleTime: Infinity })
  const form = useQuery({ queryKey: ['designer', 'form', name], queryFn: () => loadVersion('form', name), staleTime: Infinity, retry: false })
  // every top-level field: a sub-table (a checklist) may be editable in a state and required by an action too
  const fields: FormField[] = useMemo(() => form.data?.definition?.fields ?? [], [form.data])
  const [def, setDef] = useState<WorkflowDef | null>(null)
  const [origin, setOrigin] = useState<{ version: number; definition: WorkflowDef } | null>(null) // what the draft started from
  const [renames, setRenames] = useState<Record<string, string>>({}) // published name → name now
  const [selected, setSelected] = useState<string | null>(null)
  const [nodes, setNodes] = useState<Node<StateData>[]>([])
  const [edges, setEdges] = useState<Edge[]>([])
  const [checked, setChecked] = useState<Checked | null>(null)
  const [checking, setChecking] = useState(false)
  const [saved, setSaved] = useState<{ version: number; def: WorkflowDef } | null>(null)
  const [saveError, setSaveError] = useState<ApiError | null>(null)
  const [published, setPublished] = useState(false)
  const layout = useRef<Record<string, { x: number; y: number }>>({})
  const [flow, setFlow] = useState<ReactFlowInstance<Node<StateData>, Edge> | null>(null)

  useEffect(() => {
    if (base.isSuccess && !def) {
      // a form without a workflow: a minimal valid draft (version 0: nothing published, no record follows it)
      const start = base.data ?? { version: 0, definition: newWorkflow(name) }
      layout.current = autoLayout(start.definition)
      setOrigin(start)
      setDef(start.definition)
    }
  }, [base.isSuccess, base.data, def, name])

  // the server's checks, debounced: the newest answer wins
  const seq = useRef(0)
  useEffect(() => {
    if (!def) return
    const mine = ++seq.current
    setChecking(true)
    const timer = setTimeout(() => {
      post<Checked>(`/definitions/workflow/${encodeURIComponent(name)}/check`, def)
        .then((answer) => { if (mine === seq.current) setChecked(answer) })
        .catch((e: ApiError) => { if (mine === seq.current) setChecked({ valid: false, problems: [{ path: '', message: e.message }], warnings: [] }) })
        .finally(() => { if (mine === seq.current) setChecking(false) })
    }, 500)
    return () => clearTimeout(timer)
  }, [def, name])

  const grouped = useMemo(() => (def ? problemsByTarget(def, checked?.problems ?? []) : { nodes: {}, edges: {}, general: [] }), [def, checked])
  const kind = useCallback((type: string) => t(`stateType.${type}`, { defaultValue: type }), [t])
  const slotLabel = useCallback((x: Transition) => {
    const kindOf = x.slot.split(':')[0]
    if (kindOf === 'approve') return t('flowDesigner.onApprove')
    if (kindOf === 'reject') return t('flowDesigner.onReject')
    if (kindOf === 'default') return t('flowDesigner.default')
    if (kindOf === 'deadline') return x.label.replace(/^deadline /, `${t('flowDesigner.deadlineShort')} `)
    if (kindOf === 'catch') return x.label.replace(/^catch /, `${t('flowDesigner.catchShort')} `)
    return x.label || t('flowDesigner.nextLabel')
  }, [t])

  // nodes and edges follow the definition; positions, sizes and selection stay the diagram's
  useEffect(() => {
    if (!def) return
    setNodes((prev) => {
      const old = Object.fromEntries(prev.map((n) => [n.id, n]))
      return Object.keys(def.States).map((id) => {
        const s = def.States[id]
        const problems = grouped.nodes[id] ?? []
        const label = labelOf(def, id, i18n.language)
        const position = old[id]?.position ?? layout.current[id] ?? { x: 0, y: 0 }
        return {
          ...(old[id] ?? {}), id, type: 'state', position, selected: id === selected,
          data: { label, name: id, type: kind(s.Type), start: def.StartAt === id, problems },
          className: `wf-node wf-${String(s.Type).toLowerCase()}${problems.length ? ' wf-problem' : ''}`,
          ariaLabel: `${label} (${id}, ${kind(s.Type)})${def.StartAt === id ? `, ${t('flowDesigner.isStart')}` : ''}${problems.length ? ` — ${t('flowDesigner.problemCount', { count: problems.length })}: ${problems.join('; ')}` : ''}`,
        } as Node<StateData>
      })
    })
    setEdges((prev) => {
      const old = Object.fromEntries(prev.map((e) => [e.id, e]))
      return transitions(def, i18n.language).filter((x) => x.to && def.States[x.to]).map((x) => {
        const problems = grouped.edges[x.id] ?? []
        return {
          ...(old[x.id] ?? {}), id: x.id, source: x.from, target: x.to, label: `${problems.length ? '⚠ ' : ''}${x.slot === 'next' ? '' : slotLabel(x)}`,
          markerEnd: { type: MarkerType.ArrowClosed }, className: problems.length ? 'wf-edge-problem' : undefined,
          ariaLabel: `${x.from} → ${x.to}: ${slotLabel(x)}${problems.length ? ` — ${problems.join('; ')}` : ''}`,
        }
      })
    })
  }, [def, grouped, selected, i18n.language, kind, slotLabel, t])

  const onNodesChange = useCallback((changes: NodeChange<Node<StateData>>[]) => {
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), ns))
    for (const c of changes) if (c.type === 'select' && c.selected) setSelected(c.id)
  }, [])
  const onEdgesChange = useCallback((changes: EdgeChange[]) => setEdges((es) => applyEdgeChanges(changes.filter((c) => c.type !== 'remove'), es)), [])
  // after a publish, the next edit starts a new draft from what was published (its impact is measured against it)
  const justPublished = useRef<{ version: number; definition: WorkflowDef } | null>(null)
  const edit = useCallback((fn: (d: WorkflowDef) => WorkflowDef) => {
    if (justPublished.current) {
      setOrigin(justPublished.current)
      setRenames({})
      setPublished(false)
      justPublished.current = null
    }
    setDef((d) => (d ? fn(d) : d))
    setSaved(null)
  }, [])
  const onConnect = useCallback((c: Connection) => {
    edit((d) => connect(d, c.source, c.target).def)
  }, [edit])
  const onReconnect = useCallback((old: Edge, c: Connection) => {
    const [from, slot] = old.id.split('|')
    if (c.source === from && c.target) edit((d) => setTarget(d, from, slot, c.target))
  }, [edit])
  const onDelete = useCallback(({ nodes: gone, edges: cut }: { nodes: Node[]; edges: Edge[] }) => {
    const states = new Set(gone.map((n) => n.id))
    edit((d) => {
      let next = d
      for (const e of cut) {
        const [from, slot] = e.id.split('|')
        if (!states.has(e.source) && !states.has(e.target)) next = disconnect(next, from, slot)
      }
      for (const s of states) next = deleteState(next, s)
      return next
    })
    if (selected && states.has(selected)) setSelected(null)
  }, [edit, selected])

  const add = (type: StateType) => {
    if (!def) return
    const id = freeName(def, type === 'Action' ? 'Automatic' : type)
    const at = selected && nodes.find((n) => n.id === selected)
    layout.current[id] = at ? { x: at.position.x + 40, y: at.position.y + 90 } : { x: 0, y: Math.max(0, ...nodes.map((n) => n.position.y)) + 90 }
    edit((d) => addState(d, id, newState(type, id)))
    setSelected(id)
    setTimeout(() => void flow?.fitView({ padding: 0.05 }), 60) // the new state in sight
  }
  const rename = (to: string): string | null => {
    if (!def || !selected) return null
    const why = validName(def, selected, to)
    if (why) return t(`flowDesigner.name_${why}`)
    const from = selected
    const start = justPublished.current ?? origin // the draft's origin, a new one after a publish
    const publishedStates: Record<string, Json> = start && start.version > 0 ? start.definition.States : {} // a first draft: nothing published
    const known = justPublished.current ? {} : renames
    const original = Object.entries(known).find(([, now]) => now === from)?.[0] ?? from
    setNodes((ns) => ns.map((n) => (n.id === from ? { ...n, id: to } : n)))
    layout.current[to] = layout.current[from]
    edit((d) => {
      const next = renameState(d, from, to)
      if (next !== d && !publishedStates[original] && next.States[to].Label === from) next.States[to].Label = to // a new state's placeholder label follows
      return next
    })
    setRenames((r) => ({ ...Object.fromEntries(Object.entries(r).filter(([k]) => k !== original)), ...(publishedStates[original] ? { [original]: to } : {}) }))
    setSelected(to)
    return null
  }
  const relayout = () => {
    if (!def) return
    layout.current = autoLayout(def)
    setNodes((ns) => ns.map((n) => ({ ...n, position: layout.current[n.id] ?? n.position })))
    setTimeout(() => void flow?.fitView({ padding: 0.05 }), 60)
  }
  const save = async () => {
    if (!def) return
    setSaveError(null)
    try {
      // the first version has no live records to move: it is published as it is saved (no impact step)
      const first = origin?.version === 0
      const answer = await post<{ version: number }>(`/definitions/workflow/${encodeURIComponent(name)}/versions?publish=${first}`, def)
      setSaved({ version: answer.version, def })
      if (first) {
        const now = { version: answer.version, definition: def }
        setOrigin(now)
        justPublished.current = now
        setPublished(true)
        void queries.invalidateQueries({ queryKey: ['designer', 'workflow', name] })
      }
      void queries.invalidateQueries({ queryKey: ['definitions'] })
    } catch (e) {
      setSaveError(e as ApiError)
    }
  }

  if (base.error) return <p role="alert" className="alert">{(base.error as ApiError).message}</p>
  if (!def || !origin) return <p>{t('loading')}</p>
  const problemCount = checked?.problems.length ?? 0
  const states = Object.keys(def.States)
  const all = transitions(def, i18n.language)
  const fresh = origin.version === 0 // no workflow yet: this draft is the form's first

  return (
    <section aria-labelledby="wf-designer-title" className="wf-designer">
      <h2 id="wf-designer-title">{fresh ? t('flowDesigner.newTitle', { name }) : t('flowDesigner.title', { name })}</h2>
      <p className={fresh ? undefined : 'muted'}>{fresh ? t('flowDesigner.newNote') : t('flowDesigner.basedOn', { version: origin.version })} · <Link to="/admin/definitions">{t('definitions')}</Link></p>
      <div className="row wf-toolbar">
        <div role="group" aria-label={t('flowDesigner.palette')} className="row">
          {STATE_TYPES.map((type) => (
            <button key={type} type="button" onClick={() => add(type)}>{t('flowDesigner.add', { type: kind(type) })}</button>
          ))}
        </div>
        <button type="button" onClick={relayout}>{t('flowDesigner.autoLayout')}</button>
        <button type="button" className="primary" onClick={save} disabled={checking || !checked?.valid || !!saved}>{fresh ? t('flowDesigner.saveFirst') : t('flowDesigner.save')}</button>
      </div>
      <p role="status" aria-live="polite" className={problemCount ? 'error' : 'muted'}>
        {checking ? t('flowDesigner.checking') : checked ? (problemCount ? t('flowDesigner.problemCount', { count: problemCount }) : t('flowDesigner.noProblems')) : ''}
        {saved && saved.version !== origin.version && ` · ${t('flowDesigner.saved', { version: saved.version })}`}
        {published && ` · ${saved && saved.version === origin.version ? t('flowDesigner.publishedFirst', { version: saved.version }) : t('flowDesigner.publishedNow')}`}
      </p>
      {saveError && <p role="alert" className="alert">{saveError.message}{saveError.details.map((d) => ` · ${d.path}: ${d.message}`).join('')}</p>}

      <div className="wf-layout">
        <figure className="wf-canvas" aria-label={t('flowDesigner.diagram')}>
          <figcaption className="sr-only">{t('flowDesigner.diagramHelp')}</figcaption>
          <div style={{ height: 720 }}>
            <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
              onConnect={onConnect} onReconnect={onReconnect} onDelete={onDelete} edgesReconnectable deleteKeyCode={['Delete', 'Backspace']}
              onInit={setFlow} onPaneClick={() => setSelected(null)} fitView fitViewOptions={{ padding: 0.05 }} minZoom={0.2} proOptions={{ hideAttribution: true }}>
              <Background />
              <Controls />
            </ReactFlow>
          </div>
        </figure>
        {selected && def.States[selected] ? (
          <WorkflowStatePanel def={def} name={selected} fields={fields} problems={grouped.nodes[selected] ?? []}
            onChange={(d) => edit(() => d)} onRename={rename}
            onDelete={() => { edit((d) => deleteState(d, selected)); setSelected(null) }} />
        ) : <aside className="wf-panel muted">{t('flowDesigner.selectHint')}</aside>}
      </div>

      {(problemCount > 0 || (checked?.warnings.length ?? 0) > 0) && (
        <section aria-labelledby="wf-problems-title">
          <h3 id="wf-problems-title">{t('flowDesigner.problems')}</h3>
          <ul className="wf-problem-list">
            {checked!.problems.map((p, i) => {
              const at = /^States\.([A-Za-z0-9_]+)/.exec(p.path)?.[1]
              return (
                <li key={i} className="error">
                  <code>{p.path || '—'}</code> {p.message}{' '}
                  {at && def.States[at] && <button type="button" onClick={() => setSelected(at)}>{t('flowDesigner.show', { name: at })}</button>}
                </li>
              )
            })}
            {checked!.warnings.map((p, i) => <li key={`w${i}`} className="muted">{t('flowDesigner.warning')}: <code>{p.path}</code> {p.message}</li>)}
          </ul>
        </section>
      )}

      <section aria-labelledby="wf-table-title">
        <h3 id="wf-table-title">{t('flowDesigner.table')}</h3>
        <table className="grid wf-table">
          <thead><tr><th scope="col">{t('flowDesigner.state')}</th><th scope="col">{t('flowDesigner.type')}</th><th scope="col">{t('flowDesigner.transitions')}</th><th scope="col">{t('flowDesigner.connectTo')}</th></tr></thead>
          <tbody>
            {states.map((s) => (
              <tr key={s} className={grouped.nodes[s] ? 'wf-row-problem' : undefined}>
                <th scope="row">
                  <button type="button" aria-pressed={selected === s} onClick={() => setSelected(s)}>{labelOf(def, s, i18n.language)} ({s})</button>
                  {def.StartAt === s && <span className="wf-tag">{t('flowDesigner.isStart')}</span>}
                  {grouped.nodes[s] && <span className="error"> ⚠ {grouped.nodes[s].join('; ')}</span>}
                </th>
                <td>{kind(def.States[s].Type)}</td>
                <td>
                  <ul className="wf-transitions">
                    {all.filter((x) => x.from === s).map((x) => (
                      <li key={x.id}>
                        <label>{slotLabel(x)} →{' '}
                          <select aria-label={t('flowDesigner.transitionTarget', { from: s, label: slotLabel(x) })} value={x.to}
                            onChange={(e) => edit((d) => setTarget(d, s, x.slot, e.target.value))}>
                            <option value="">{t('flowDesigner.chooseState')}</option>
                            {states.map((n) => <option key={n} value={n}>{n}</option>)}
                          </select>
                        </label>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {!['Succeed', 'Fail'].includes(def.States[s].Type) && (
                    <select aria-label={t('flowDesigner.connectFrom', { from: s })} value="" onChange={(e) => e.target.value && edit((d) => connect(d, s, e.target.value).def)}>
                      <option value="">{t('flowDesigner.newTransition')}</option>
                      {states.map((n) => <option key={n} value={n}>{n}</option>)}
                    </select>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {!fresh && <WorkflowDryRun name={name} def={def} fields={fields} titleField={form.data?.definition?.title_field} />}

      {saved && saved.version !== origin.version && (
        <WorkflowImpact key={saved.version} name={name} base={origin.definition} baseVersion={origin.version} saved={saved.def}
          version={saved.version} renames={renames} onPublished={() => {
            justPublished.current = { version: saved.version, definition: saved.def }
            setPublished(true)
            void queries.invalidateQueries({ queryKey: ['definitions'] })
          }} />
      )}
    </section>
  )
}
