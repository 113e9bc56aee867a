// Editors of the state panel for the workflow definition's nested parts: a Choice rule as a small rule
// tree (a field compared, an expression, And / Or of rules, Not of one, nested), and an assignee rule of
// every kind the definition has (Role, Field, Users, Lookup, with Fallbacks). Each hands on a new value;
// the pure edits are WorkflowModel's.
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  ASSIGNEE_KINDS, OPERATORS, RULE_KINDS, addRuleChild, assigneeKind, operandOf, operatorOf, removeRuleChild, ruleKind, updateRule,
  userList, withAssigneeKind, withKind, withOperator, type AssigneeKind, type Json, type RuleKind, type RuleStep,
} from './WorkflowModel'
import type { FormField } from './WorkflowStatePanel'
import './WorkflowRuleEditors.css'

const fieldLabelOf = (language: string) => (f: FormField) => f.translations?.[language]?.label || f.label || f.name

/** One top-level Choice rule (its Next is the panel's), drawn as a tree. */
export function ChoiceRuleEditor({ rule, n, fields, onChange }: { rule: Json; n: string; fields: FormField[]; onChange: (rule: Json) => void }) {
  return <RuleNode root={rule} path={[]} n={n} fields={fields} onChange={onChange} />
}

function RuleNode({ root, path, n, fields, onChange, onRemove }: {
  root: Json; path: RuleStep[]; n: string; fields: FormField[]; onChange: (rule: Json) => void; onRemove?: () => void
}) {
  const { t, i18n } = useTranslation()
  const fieldLabel = fieldLabelOf(i18n.language)
  const node = path.reduce((x: Json, step) => (step === 'Not' ? x?.Not : (x?.And ?? x?.Or)?.[step]), root)
  const kind = ruleKind(node)
  const set = (change: (x: Json) => Json) => onChange(updateRule(root, path, change))
  const id = `wfr-${n.replace(/\./g, '-')}`
  const nested = path.length > 0
  const op = operatorOf(node)
  const boolish = ['BooleanEquals', 'IsPresent', 'IsNull'].includes(op)
  return (
    <div className={`wf-rule wf-rule-${kind}${nested ? ' nested' : ''}`} data-rule={n}>
      <div className="row">
        <label htmlFor={`${id}-kind`}>{t('flowDesigner.ruleKindOf', { n })}</label>
        <select id={`${id}-kind`} value={kind} onChange={(e) => set((x) => withKind(x, e.target.value as RuleKind, !nested))}>
          {RULE_KINDS.map((k) => <option key={k} value={k}>{t(`flowDesigner.kind_${k}`)}</option>)}
        </select>
        {onRemove && <button type="button" onClick={onRemove}>{t('flowDesigner.removeRule', { n })}</button>}
      </div>
      {kind === 'compare' && (
        <div className="row wf-compare">
          <label htmlFor={`${id}-field`}>{t('flowDesigner.ruleFieldOf', { n })}</label>
          <select id={`${id}-field`} value={String(node.Variable ?? '').replace(/^\$\./, '')}
            onChange={(e) => set((x) => ({ ...x, Variable: e.target.value ? `$.${e.target.value}` : '' }))}>
            <option value="">{t('flowDesigner.chooseField')}</option>
            {fields.filter((f) => f.type !== 'subtable').map((f) => <option key={f.name} value={f.name}>{fieldLabel(f)}</option>)}
          </select>
          <label htmlFor={`${id}-op`}>{t('flowDesigner.ruleOperatorOf', { n })}</label>
          <select id={`${id}-op`} value={op} onChange={(e) => set((x) => withOperator(x, e.target.value))}>
            {OPERATORS.map((o) => <option key={o} value={o}>{t(`flowDesigner.op_${o}`)}</option>)}
          </select>
          <label htmlFor={`${id}-value`}>{t('flowDesigner.ruleValueOf', { n })}</label>
          {boolish ? (
            <select id={`${id}-value`} value={node[op] === false ? 'false' : 'true'} onChange={(e) => set((x) => ({ ...x, [op]: e.target.value === 'true' }))}>
              <option value="true">{t('flowDesigner.yes')}</option>
              <option value="false">{t('flowDesigner.no')}</option>
            </select>
          ) : (
            <input id={`${id}-value`} value={node[op] === undefined ? '' : String(node[op])} inputMode={op.startsWith('Numeric') ? 'decimal' : undefined}
              placeholder={op.startsWith('Timestamp') ? '2026-01-31T00:00:00Z' : op === 'StringMatches' ? 'A-*' : undefined}
              onChange={(e) => set((x) => ({ ...x, [op]: operandOf(op, e.target.value) }))} />
          )}
        </div>
      )}
      {kind === 'Condition' && (
        <div className="row wf-condition">
          <label htmlFor={`${id}-expression`}>{t('flowDesigner.ruleExpressionOf', { n })}</label>
          <input id={`${id}-expression`} className="wf-expression" value={node.Condition ?? ''} spellCheck={false}
            onChange={(e) => set((x) => ({ ...x, Condition: e.target.value }))} />
        </div>
      )}
      {(kind === 'And' || kind === 'Or') && (
        <>
          <ol className="wf-rule-members" aria-label={t('flowDesigner.ruleMembers', { n, kind: t(`flowDesigner.kind_${kind}`) })}>
            {node[kind].map((_: Json, i: number) => (
              <li key={i}>
                <RuleNode root={root} path={[...path, i]} n={`${n}.${i + 1}`} fields={fields} onChange={onChange}
                  onRemove={node[kind].length > 1 ? () => onChange(removeRuleChild(root, [...path, i])) : undefined} />
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => onChange(addRuleChild(root, path))}>{t('flowDesigner.addRuleTo', { n })}</button>
        </>
      )}
      {kind === 'Not' && (
        <div className="wf-rule-members">
          <RuleNode root={root} path={[...path, 'Not']} n={`${n}.1`} fields={fields} onChange={onChange} />
        </div>
      )}
    </div>
  )
}

/** An assignee rule of any kind, with its Fallback (itself a rule) added, edited or removed. `what`
 *  names it in the labels ("Assignee", "Level 2"); `roleLabel` is the role input's label. */
export function AssigneeEditor({ rule, what, roleLabel, fields, onChange }: {
  rule: Json; what: string; roleLabel?: string; fields: FormField[]; onChange: (rule: Json) => void
}) {
  const { t, i18n } = useTranslation()
  const fieldLabel = fieldLabelOf(i18n.language)
  const kind = assigneeKind(rule)
  const lookup = rule?.Lookup ?? {}
  const setLookup = (key: string, value: string) => onChange({ ...rule, Lookup: { ...lookup, [key]: value } })
  const users = fields.filter((f) => f.type === 'user')
  return (
    <div className="wf-assignee" data-assignee={what}>
      <label>{t('flowDesigner.whoOf', { what })} <select value={kind} onChange={(e) => onChange(withAssigneeKind(rule, e.target.value as AssigneeKind))}>
        {ASSIGNEE_KINDS.map((k) => <option key={k} value={k}>{t(`flowDesigner.assignee_${k}`)}</option>)}
      </select></label>
      {kind === 'Role' && <label>{roleLabel ?? t('flowDesigner.roleOf', { what })} <input value={rule?.Role ?? ''} onChange={(e) => onChange({ ...rule, Role: e.target.value })} /></label>}
      {kind === 'Field' && (
        <label>{t('flowDesigner.userFieldOf', { what })} <select value={rule?.Field ?? ''} onChange={(e) => onChange({ ...rule, Field: e.target.value })}>
          <option value="">{t('flowDesigner.chooseField')}</option>
          {users.map((f) => <option key={f.name} value={f.name}>{fieldLabel(f)}</option>)}
          {rule?.Field && !users.some((f) => f.name === rule.Field) && <option value={rule.Field}>{rule.Field}</option>}
        </select></label>
      )}
      {kind === 'Users' && (
        <UsersInput label={t('flowDesigner.usersOf', { what })} users={rule?.Users ?? []} onChange={(list) => onChange({ ...rule, Users: list })} />
      )}
      {kind === 'Lookup' && (
        <div className="wf-lookup">
          <p className="muted">{t('flowDesigner.lookupHint')}</p>
          <label>{t('flowDesigner.lookupFormOf', { what })} <input value={lookup.Form ?? ''} onChange={(e) => setLookup('Form', e.target.value.trim())} /></label>
          <label>{t('flowDesigner.lookupMatchOf', { what })} <input value={lookup.MatchField ?? ''} onChange={(e) => setLookup('MatchField', e.target.value.trim())} /></label>
          <label>{t('flowDesigner.lookupValueOf', { what })} <select value={lookup.ValueField ?? ''} onChange={(e) => setLookup('ValueField', e.target.value)}>
            <option value="">{t('flowDesigner.chooseField')}</option>
            {fields.filter((f) => f.type !== 'subtable').map((f) => <option key={f.name} value={f.name}>{fieldLabel(f)}</option>)}
          </select></label>
          <label>{t('flowDesigner.lookupUserOf', { what })} <input value={lookup.UserField ?? ''} onChange={(e) => setLookup('UserField', e.target.value.trim())} /></label>
        </div>
      )}
      {rule?.Fallback ? (
        <fieldset className="wf-fallback">
          <legend>{t('flowDesigner.fallbackOf', { what })}</legend>
          <AssigneeEditor rule={rule.Fallback} what={t('flowDesigner.fallbackOf', { what })} fields={fields} onChange={(fallback) => onChange({ ...rule, Fallback: fallback })} />
          <button type="button" onClick={() => { const { Fallback: _drop, ...rest } = rule; onChange(rest) }}>{t('flowDesigner.removeFallback', { what })}</button>
        </fieldset>
      ) : (
        <button type="button" onClick={() => onChange({ ...rule, Fallback: { Role: '' } })}>{t('flowDesigner.addFallback', { what })}</button>
      )}
    </div>
  )
}

/** Users typed as "ann.lee, bo.chen": the text kept as typed (a trailing comma too), the list handed on. */
function UsersInput({ label, users, onChange }: { label: string; users: string[]; onChange: (users: string[]) => void }) {
  const [text, setText] = useState(users.join(', '))
  useEffect(() => {
    if (userList(text).join(',') !== users.join(',')) setText(users.join(', '))
  }, [users]) // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <label>{label} <input value={text} placeholder="ann.lee, bo.chen" onChange={(e) => { setText(e.target.value); onChange(userList(e.target.value)) }} /></label>
  )
}
