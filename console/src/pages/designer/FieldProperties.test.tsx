// The form designer's property panel: what each input writes into the field's definition (labels in both
// languages, options added / relabelled / reordered / removed, limits from the served schema), keys it does
// not know left as they were, and the draft's problems shown at the input they concern.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import '../../lib/i18n'
import i18n from '../../lib/i18n'
import FieldProperties from './FieldProperties'
import type { FieldJson, Placed } from './formDraft'

vi.mock('../../lib/config', () => ({ config: () => ({ apiUrl: 'https://api.example', auth: 'local' }) }))
const post = vi.fn()
vi.mock('../../lib/api', async (original) => ({ ...(await original<typeof import('../../lib/api')>()), post: (path: string, body: unknown) => post(path, body) }))

const SETTINGS = {
  name: { type: 'string' }, type: { const: 'select' }, label: { type: 'string' }, options: { type: 'array' },
  unique: { type: 'boolean', default: false }, minimum: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'null' }] },
}

const TYPES = { settings: { select: SETTINGS, text: { name: {}, type: {}, label: {}, required: {}, visible_if: {}, max_length: {} } }, top: ['text', 'select'], rows: ['text'] }

function show(field: FieldJson, problems: Placed[] = [], definition: Record<string, unknown> | null = null) {
  const onChange = vi.fn()
  const onReplace = vi.fn()
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={client}>
      <FieldProperties item={{ key: 'k1', field }} parent={null} settings={SETTINGS} types={TYPES} problems={problems} forms={[]}
        expression={{ form: 'equipment_check', definition, names: ['condition'] }} onChange={onChange} onReplace={onReplace} />
    </QueryClientProvider>,
  )
  return Object.assign(onChange, { onReplace })
}

afterEach(() => {
  cleanup()
  vi.resetAllMocks()
})

describe('the property panel', () => {
  const select = { name: 'condition', type: 'select', x_kept: { any: 1 }, options: [{ value: 'good', label: 'Good' }, { value: 'worn', label: 'Worn' }] }

  it('writes labels in both languages and keeps unknown keys', async () => {
    await i18n.changeLanguage('en')
    const onChange = show(select)
    fireEvent.change(screen.getByLabelText('Label (English)'), { target: { value: 'Condition' } })
    expect(onChange).toHaveBeenLastCalledWith({ ...select, label: 'Condition' })
    fireEvent.change(screen.getByLabelText('Label (中文)'), { target: { value: '状况' } })
    expect(onChange).toHaveBeenLastCalledWith({ ...select, translations: { 'zh-CN': { label: '状况' } } })
  })

  it('adds, relabels, reorders and removes options', () => {
    const onChange = show(select)
    fireEvent.click(screen.getByRole('button', { name: 'Add an option' }))
    expect(onChange.mock.lastCall![0].options).toEqual([...select.options, { value: 'option_3', label: 'Option 3' }])
    fireEvent.change(screen.getByLabelText('Chinese label of worn'), { target: { value: '磨损' } })
    expect(onChange.mock.lastCall![0].options[1]).toEqual({ value: 'worn', label: 'Worn', translations: { 'zh-CN': { label: '磨损' } } })
    fireEvent.click(screen.getByRole('button', { name: 'Move worn up' }))
    expect(onChange.mock.lastCall![0].options.map((o: FieldJson) => o.value)).toEqual(['worn', 'good'])
    fireEvent.click(screen.getByRole('button', { name: 'Remove option good' }))
    expect(onChange.mock.lastCall![0].options.map((o: FieldJson) => o.value)).toEqual(['worn'])
    expect(onChange.mock.lastCall![0].x_kept).toEqual({ any: 1 })
  })

  it('draws the other settings from the served schema', () => {
    const onChange = show(select)
    fireEvent.change(screen.getByLabelText('Minimum'), { target: { value: '3' } })
    expect(onChange.mock.lastCall![0].minimum).toBe(3)
    fireEvent.click(screen.getByLabelText('Unique'))
    expect(onChange.mock.lastCall![0].unique).toBe(true)
  })

  it('shows a problem at its input, with the expression position', () => {
    show({ ...select, visible_if: "conditon == 'x'" }, [
      { path: 'fields[0].visible_if', message: "unknown field 'conditon' at position 0", key: 'k1', prop: 'visible_if' },
      { path: 'fields[0].options[0].value', message: 'duplicate value', key: 'k1', prop: 'options' },
    ])
    const rule = screen.getByLabelText('Visible when')
    expect(rule.getAttribute('aria-invalid')).toBe('true')
    const problem = document.getElementById(rule.getAttribute('aria-describedby')!)!
    expect(problem.textContent).toContain("unknown field 'conditon'")
    expect(problem.textContent).toContain('^')
    expect(screen.getByText('duplicate value')).toBeTruthy()
    expect(post).not.toHaveBeenCalled() // no draft to check against yet: the draft's check speaks
  })

  it('changes the type, says what was left out, and undoes it', async () => {
    await i18n.changeLanguage('en')
    const field = { ...select, label: 'Condition', required: true, visible_if: 'true', default: 'good' }
    const { onReplace } = show(field)
    fireEvent.change(screen.getByLabelText('Field type'), { target: { value: 'text' } })
    expect(onReplace.mock.lastCall![0]).toEqual({ key: 'k1', field: { name: 'condition', type: 'text', label: 'Condition', required: true, visible_if: 'true' } })
    const note = screen.getByRole('status')
    expect(note.textContent).toContain('x_kept, options, default')
    fireEvent.click(screen.getByRole('button', { name: /Undo/ }))
    expect(onReplace.mock.lastCall![0]).toEqual({ key: 'k1', field })
  })

  it('checks an expression against the draft sent along, published or not', async () => {
    const definition = { name: 'equipment_check', fields: [{ name: 'condition', type: 'select' }] }
    post.mockResolvedValue({ valid: false, error: { message: "unknown field 'conditon' (did you mean 'condition'?) at position 0", position: 0 }, fields: [], variables: [] })
    show({ ...select, visible_if: "conditon == 'x'" }, [], definition)
    await screen.findByText(/did you mean 'condition'/, undefined, { timeout: 3000 })
    expect(post).toHaveBeenCalledWith('/forms/equipment_check/expressions/check', { expression: "conditon == 'x'", definition })
    expect(screen.getByLabelText('Visible when').getAttribute('aria-invalid')).toBe('true')
  })
})
