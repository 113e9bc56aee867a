// The side panel of the workflow designer: everything about the selected state, as form controls
// (so the whole definition is editable by keyboard as well as on the diagram).
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { NAME, labelOf, withApprovalMode, type Json, type WorkflowDef } from './WorkflowModel'
import { AssigneeEditor, ChoiceRuleEditor } from './WorkflowRuleEditors'

export interface FormField { name: string; label?: string; type: string; required?: boolean; translations?: Record<string, { label?: string }> }

interface Props {
  def: WorkflowDef
  name: string
  fields: FormField[]
  problems: string[]
  onChange: (def: WorkflowDef) => void
  onRename: (to: string) => string | null // the reason it was refused, or null
  onDelete: () => void
}


export default function WorkflowStatePanel({ def, name, fields, problems, onChange, onRename, onDelete }: Props) {
  const { t, i18n } = useTranslation()
  const s = def.States[name]
  const [newName, setNewName] = useState(name)
  const [renameError, setRenameError] = useState<string | null>(null)
  useEffect(() => { setNewName(name); setRenameError(null) }, [name])
  if (!s) return null
  const id = (part: string) => `wfp-${name}-${part}`
  const update = (fn: (state: Json, all: WorkflowDef) => void) => {
    const next = structuredClone(def)
    fn(next.States[name], next)
    onChange(next)
  }
  const states = Object.keys(def.States)
  const fieldLabel = (f: FormField) => f.translations?.[i18n.language]?.label || f.label || f.name
  const target = (value: string, label: string, set: (v: string) => void, optional = false) => (
    <select aria-label={label} value={value ?? ''} onChange={(e) => set(e.target.value)}>
      <option value="">{optional ? t('flowDesigner.none') : t('flowDesigner.chooseState')}</option>
      {states.map((n) => <option key={n} value={n}>{n === labelOf(def, n, i18n.language) ? n : `${n} — ${labelOf(def, n, i18n.language)}`}</option>)}
    </select>
  )
  const resting = !['Choice', 'Action'].includes(s.Type)

  return (
    <aside className="wf-panel" aria-labelledby={id('title')}>
      <h3 id={id('title')}>{t('flowDesigner.stateTitle', { name, type: t(`stateType.${s.Type}`, { defaultValue: s.Type }) })}</h3>
      {problems.length > 0 && (
        <ul className="wf-problems-here" aria-label={t('flowDesigner.problemsOfState', { name })}>
          {problems.map((p, i) => <li key={i} className="error">⚠ {p}</li>)}
        </ul>
      )}
      <form className="wf-rename" onSubmit={(e) => { e.preventDefault(); setRenameError(onRename(newName.trim())) }}>
        <label htmlFor={id('name')}>{t('flowDesigner.stateName')}</label>
        <input id={id('name')} value={newName} onChange={(e) => setNewName(e.target.value)} aria-invalid={renameError ? true : undefined}
          aria-describedby={renameError ? id('name-error') : undefined} />
        <button type="submit" disabled={newName.trim() === name}>{t('flowDesigner.rename')}</button>
        {renameError && <p id={id('name-error')} role="alert" className="error">{renameError}</p>}
      </form>
      <div className="row">
        {def.StartAt === name ? <span className="wf-tag">{t('flowDesigner.isStart')}</span>
          : <button type="button" onClick={() => onChange({ ...def, StartAt: name })}>{t('flowDesigner.makeStart')}</button>}
        <button type="button" className="danger" onClick={onDelete}>{t('flowDesigner.deleteState', { name })}</button>
      </div>

      {resting && (
        <fieldset>
          <legend>{t('flowDesigner.labels')}</legend>
          <label>{t('flowDesigner.labelEn')} <input value={s.Label ?? ''} onChange={(e) => update((x) => { x.Label = e.target.value })} /></label>
          <label>{t('flowDesigner.labelZh')} <input lang="zh-CN" value={s.Translations?.['zh-CN']?.Label ?? ''} onChange={(e) => update((x) => {
            x.Translations = { ...(x.Translations ?? {}), 'zh-CN': { ...(x.Translations?.['zh-CN'] ?? {}), Label: e.target.value } }
          })} /></label>
        </fieldset>
      )}

      {s.Type === 'Task' && (
        <>
          <fieldset>
            <legend>{t('flowDesigner.assignee')}</legend>
            <AssigneeEditor rule={s.Assignee ?? { Role: '' }} what={t('flowDesigner.assignee')} roleLabel={t('flowDesigner.assigneeRole')} fields={fields}
              onChange={(rule) => update((x) => { x.Assignee = rule })} />
          </fieldset>
          <fieldset className="wf-fields">
            <legend>{t('flowDesigner.editable')}</legend>
            {fields.map((f) => (
              <label key={f.name} className="wf-check"><input type="checkbox" checked={(s.Editable ?? []).includes(f.name)} onChange={(e) => update((x) => {
                const now: string[] = x.Editable ?? []
                x.Editable = e.target.checked ? [...now, f.name] : now.filter((n) => n !== f.name)
              })} /> {fieldLabel(f)}</label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{t('flowDesigner.actions')}</legend>
            {Object.entries<Json>(s.Actions ?? {}).map(([key, a]) => (
              <fieldset key={key} className="wf-item">
                <legend>{t('flowDesigner.action', { name: key })}</legend>
                <label>{t('flowDesigner.actionName')} <input defaultValue={key} pattern="[a-z][a-z0-9_]*" onBlur={(e) => {
                  const to = e.target.value.trim()
                  if (!to || to === key || s.Actions[to] || !/^[a-z][a-z0-9_]{0,39}$/.test(to)) { e.target.value = key; return }
                  update((x) => { x.Actions = Object.fromEntries(Object.entries(x.Actions).map(([k, v]) => [k === key ? to : k, v])) })
                }} /></label>
                <label>{t('flowDesigner.labelEn')} <input value={a.Label ?? ''} onChange={(e) => update((x) => { x.Actions[key].Label = e.target.value })} /></label>
                <label>{t('flowDesigner.labelZh')} <input lang="zh-CN" value={a.Translations?.['zh-CN']?.Label ?? ''} onChange={(e) => update((x) => {
                  x.Actions[key].Translations = { ...(a.Translations ?? {}), 'zh-CN': { Label: e.target.value } }
                })} /></label>
                <label>{t('flowDesigner.next')} {target(a.Next, t('flowDesigner.nextOfAction', { name: key }), (v) => update((x) => { x.Actions[key].Next = v }))}</label>
                <label>{t('flowDesigner.requires')}
                  <select multiple size={4} value={a.Requires ?? []} onChange={(e) => update((x) => {
                    const chosen = [...e.target.selectedOptions].map((o) => o.value)
                    if (chosen.length) x.Actions[key].Requires = chosen; else delete x.Actions[key].Requires
                  })}>
                    {fields.map((f) => <option key={f.name} value={f.name}>{fieldLabel(f)}</option>)}
                  </select>
                </label>
                <label className="wf-check"><input type="checkbox" checked={!!a.CommentRequired} onChange={(e) => update((x) => {
                  if (e.target.checked) x.Actions[key].CommentRequired = true; else delete x.Actions[key].CommentRequired
                })} /> {t('flowDesigner.commentRequired')}</label>
                <button type="button" onClick={() => update((x) => { delete x.Actions[key] })}>{t('flowDesigner.removeAction', { name: key })}</button>
              </fieldset>
            ))}
            <button type="button" onClick={() => update((x) => {
              let key = 'action'
              for (let i = 2; x.Actions?.[key]; i++) key = `action_${i}`
              x.Actions = { ...(x.Actions ?? {}), [key]: { Label: '', Next: '' } }
            })}>{t('flowDesigner.addAction')}</button>
          </fieldset>
        </>
      )}

      {s.Type === 'Approval' && (
        <fieldset>
          <legend>{t('flowDesigner.approval')}</legend>
          <label>{t('flowDesigner.mode')} <select value={s.Mode} onChange={(e) => update((x, all) => { all.States[name] = withApprovalMode(x, e.target.value) })}>
            {['single', 'chain', 'all', 'any', 'threshold'].map((m) => <option key={m} value={m}>{t(`flowDesigner.mode_${m}`)}</option>)}
          </select></label>
          {s.Mode === 'threshold' && <label>{t('flowDesigner.threshold')} <input type="number" min={1} max={100} value={s.ThresholdPercent ?? ''}
            onChange={(e) => update((x) => { x.ThresholdPercent = Number(e.target.value) || undefined })} /></label>}
          {s.Mode !== 'chain' && (
            <AssigneeEditor rule={s.Approvers ?? { Role: '' }} what={t('flowDesigner.approvers')} roleLabel={t('flowDesigner.approversRole')} fields={fields}
              onChange={(rule) => update((x) => { x.Approvers = rule })} />
          )}
          {['all', 'threshold'].includes(s.Mode) && <p className="muted">{t('flowDesigner.countedVotes')}</p>}
          {s.Mode === 'chain' && (
            <fieldset className="wf-levels">
              <legend>{t('flowDesigner.levels')}</legend>
              <ol>
                {(s.Levels ?? []).map((level: Json, li: number) => {
                  const n = li + 1
                  const what = t('flowDesigner.level', { n })
                  return (
                    <li key={li} className="wf-item">
                      <AssigneeEditor rule={level} what={what} fields={fields} onChange={(rule) => update((x) => { x.Levels[li] = rule })} />
                      <div className="row">
                        <button type="button" disabled={li === 0} onClick={() => update((x) => { const [l] = x.Levels.splice(li, 1); x.Levels.splice(li - 1, 0, l) })}>{t('flowDesigner.levelUp', { n })}</button>
                        <button type="button" disabled={(s.Levels ?? []).length < 2} onClick={() => update((x) => { x.Levels.splice(li, 1) })}>{t('flowDesigner.removeLevel', { n })}</button>
                      </div>
                    </li>
                  )
                })}
              </ol>
              <button type="button" disabled={(s.Levels ?? []).length >= 10} onClick={() => update((x) => { x.Levels = [...(x.Levels ?? []), { Role: '' }] })}>{t('flowDesigner.addLevel')}</button>
            </fieldset>
          )}
          <fieldset className="wf-sod">
            <legend>{t('flowDesigner.sod')}</legend>
            <label className="wf-check"><input type="checkbox" checked={s.SeparationOfDuties?.Enabled !== false} onChange={(e) => update((x) => {
              x.SeparationOfDuties = { ...(x.SeparationOfDuties ?? {}), Enabled: e.target.checked }
            })} /> {t('flowDesigner.sodEnabled')}</label>
            {s.Mode === 'chain' && <label className="wf-check"><input type="checkbox" checked={s.SeparationOfDuties?.OneLevelPerPerson !== false} onChange={(e) => update((x) => {
              x.SeparationOfDuties = { ...(x.SeparationOfDuties ?? {}), OneLevelPerPerson: e.target.checked }
            })} /> {t('flowDesigner.sodOneLevel')}</label>}
            {fields.filter((f) => f.type === 'user').map((f) => (
              <label key={f.name} className="wf-check"><input type="checkbox" checked={(s.SeparationOfDuties?.ExcludeFields ?? []).includes(f.name)} onChange={(e) => update((x) => {
                const now: string[] = x.SeparationOfDuties?.ExcludeFields ?? []
                x.SeparationOfDuties = { ...(x.SeparationOfDuties ?? {}), ExcludeFields: e.target.checked ? [...now, f.name] : now.filter((n) => n !== f.name) }
              })} /> {t('flowDesigner.sodExclude', { field: fieldLabel(f) })}</label>
            ))}
          </fieldset>
          <label>{t('flowDesigner.onApprove')} {target(s.OnApprove, t('flowDesigner.onApproveOf', { name }), (v) => update((x) => { x.OnApprove = v }))}</label>
          <label>{t('flowDesigner.onReject')} {target(s.OnReject, t('flowDesigner.onRejectOf', { name }), (v) => update((x) => { x.OnReject = v }))}</label>
        </fieldset>
      )}

      {s.Type === 'Choice' && (
        <fieldset>
          <legend>{t('flowDesigner.rules')}</legend>
          {(s.Choices ?? []).map((rule: Json, i: number) => {
            const n = i + 1
            return (
              <fieldset key={i} className="wf-item">
                <legend>{t('flowDesigner.rule', { n })}</legend>
                <ChoiceRuleEditor rule={rule} n={String(n)} fields={fields} onChange={(next) => update((x) => { x.Choices[i] = next })} />
                <label>{t('flowDesigner.next')} {target(rule.Next, t('flowDesigner.nextOfRule', { n }), (v) => update((x) => { x.Choices[i].Next = v }))}</label>
                <button type="button" onClick={() => update((x) => { x.Choices.splice(i, 1) })} disabled={(s.Choices ?? []).length < 2}>{t('flowDesigner.removeRule', { n })}</button>
              </fieldset>
            )
          })}
          <button type="button" onClick={() => update((x) => { x.Choices = [...(x.Choices ?? []), { Variable: '', StringEquals: '', Next: '' }] })}>{t('flowDesigner.addRule')}</button>
          <label>{t('flowDesigner.default')} {target(s.Default, t('flowDesigner.defaultOf', { name }), (v) => update((x) => { if (v) x.Default = v; else delete x.Default }), true)}</label>
        </fieldset>
      )}

      {s.Type === 'Wait' && (
        <fieldset>
          <legend>{t('flowDesigner.wait')}</legend>
          <label>{t('flowDesigner.waitSeconds')} <input type="number" min={1} value={s.Seconds ?? ''} onChange={(e) => update((x) => {
            if (e.target.value) { x.Seconds = Number(e.target.value); delete x.TimestampField } else delete x.Seconds
          })} /></label>
          <label>{t('flowDesigner.waitUntil')} <select value={s.TimestampField ?? ''} onChange={(e) => update((x) => {
            if (e.target.value) { x.TimestampField = e.target.value; delete x.Seconds } else delete x.TimestampField
          })}>
            <option value="">{t('flowDesigner.none')}</option>
            {fields.filter((f) => ['date', 'datetime'].includes(f.type)).map((f) => <option key={f.name} value={f.name}>{fieldLabel(f)}</option>)}
          </select></label>
          <label>{t('flowDesigner.next')} {target(s.Next, t('flowDesigner.nextOf', { name }), (v) => update((x) => { x.Next = v }))}</label>
        </fieldset>
      )}

      {s.Type === 'Action' && (
        <fieldset>
          <legend>{t('flowDesigner.automatic')}</legend>
          <pre className="json">{JSON.stringify(s.Steps, null, 1)}</pre>
          <label>{t('flowDesigner.next')} {target(s.Next, t('flowDesigner.nextOf', { name }), (v) => update((x) => { x.Next = v; delete x.End }))}</label>
        </fieldset>
      )}

      {(s.Type === 'Task' || s.Type === 'Approval') && (
        <fieldset>
          <legend>{t('flowDesigner.deadlines')}</legend>
          {(s.Deadlines ?? []).map((d: Json, di: number) => (
            <fieldset key={di} className="wf-item">
              <legend>{t('flowDesigner.deadline', { name: d.Name })}</legend>
              <label>{t('flowDesigner.deadlineName')} <input value={d.Name} onChange={(e) => update((x) => { x.Deadlines[di].Name = e.target.value })} /></label>
              <label>{t('flowDesigner.labelEn')} <input value={d.Label ?? ''} onChange={(e) => update((x) => { x.Deadlines[di].Label = e.target.value })} /></label>
              {d.SecondsBy ? <p className="muted">{t('flowDesigner.secondsBy', { field: d.SecondsBy.Field })}: <code>{JSON.stringify(d.SecondsBy.Map)}</code></p>
                : <label>{t('flowDesigner.seconds')} <input type="number" min={1} value={d.Seconds ?? ''} onChange={(e) => update((x) => { x.Deadlines[di].Seconds = Number(e.target.value) || undefined })} /></label>}
              <label>{t('flowDesigner.remindBefore')} <input type="number" min={1} value={d.RemindBefore ?? ''} onChange={(e) => update((x) => {
                if (e.target.value) x.Deadlines[di].RemindBefore = Number(e.target.value); else delete x.Deadlines[di].RemindBefore
              })} /></label>
              {(d.Escalate ?? []).map((e: Json, ei: number) => {
                const n = ei + 1
                return (
                  <div key={ei} className="row">
                    <label>{t('flowDesigner.escalation', { n })} <select value={'Goto' in e ? 'goto' : e.Notify ? 'notify' : 'reassign'} onChange={(ev) => update((x) => {
                      x.Deadlines[di].Escalate[ei] = ev.target.value === 'goto' ? { Goto: '' } : ev.target.value === 'notify' ? { Notify: { Role: 'manager' } } : { Reassign: { Role: 'manager' } }
                    })}>
                      <option value="notify">{t('flowDesigner.notify')}</option>
                      <option value="reassign">{t('flowDesigner.reassign')}</option>
                      <option value="goto">{t('flowDesigner.goto')}</option>
                    </select></label>
                    {'Goto' in e ? target(e.Goto, t('flowDesigner.gotoOf', { n }), (v) => update((x) => { x.Deadlines[di].Escalate[ei] = { Goto: v } }))
                      : <AssigneeEditor rule={e.Notify ?? e.Reassign ?? { Role: '' }} what={t('flowDesigner.escalationOf', { n, deadline: d.Name })} roleLabel={t('flowDesigner.role')}
                        fields={fields} onChange={(rule) => update((x) => { x.Deadlines[di].Escalate[ei] = { [e.Notify ? 'Notify' : 'Reassign']: rule } })} />}
                    <button type="button" onClick={() => update((x) => { x.Deadlines[di].Escalate.splice(ei, 1) })}>{t('flowDesigner.removeEscalation', { n })}</button>
                  </div>
                )
              })}
              <button type="button" onClick={() => update((x) => { x.Deadlines[di].Escalate = [...(x.Deadlines[di].Escalate ?? []), { Notify: { Role: 'manager' } }] })}>{t('flowDesigner.addEscalation')}</button>
              <button type="button" onClick={() => update((x) => { x.Deadlines.splice(di, 1); if (!x.Deadlines.length) delete x.Deadlines })}>{t('flowDesigner.removeDeadline', { name: d.Name })}</button>
            </fieldset>
          ))}
          <button type="button" onClick={() => update((x) => {
            const taken = new Set((x.Deadlines ?? []).map((d: Json) => d.Name))
            let n = 'deadline'
            for (let i = 2; taken.has(n); i++) n = `deadline_${i}`
            x.Deadlines = [...(x.Deadlines ?? []), { Name: n, Label: '', Seconds: 3600, Escalate: [{ Notify: { Role: 'manager' } }] }]
          })}>{t('flowDesigner.addDeadline')}</button>
        </fieldset>
      )}
    </aside>
  )
}

export const validName = (def: WorkflowDef, from: string, to: string) =>
  !NAME.test(to) ? 'invalid' : to !== from && def.States[to] ? 'taken' : null
