// Browser walk of the form designer on the real local stack (Debian's chromium, playwright-core), started by
// tests/console/test_console_form_designer.py with CONSOLE_URL. The admin builds the form "equipment_check"
// in the designer only: a text field (click), a number with min/max (dragged from the palette), a select
// with three options labelled in both languages (placed as a required text with a maximum length first,
// then turned into a select: label and required kept, the length left out and named), a sub-table
// "checklist" (a pass/fail select and a notes text), a photo; a visibility rule typed with a typo (the
// expression endpoint checks it against the draft — the form was never published — and the problem shows
// at the field, with its position) then corrected; reorders two fields by drag and drop and one by keyboard; saves, sees the changes,
// publishes. Then, in zh-CN, the shipped work_order form: one label changed, saved, the diff shows just
// that change, not published. axe on each designer page; screenshots to e2e/screenshots/.
import { accessible as axeCheck, fail, screenshot as shot, signIn, walk } from './lib.mjs'

const base = process.env.CONSOLE_URL ?? 'http://127.0.0.1:8003'
const visited = []
const accessible = (page, name) => axeCheck(page, name, visited)

const summary = { ok: false, visited }
await walk('form_designer', summary, async (browser) => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))
  const started = Date.now()
  await signIn(page, base, 'Ada Admin')
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: 'Design a new form', exact: true }).click()
  await page.getByRole('heading', { name: /Form designer/ }).waitFor()

  const props = page.locator('.fd-properties')
  const list = page.locator('.fd-list')
  const item = (name) => list.locator(`:scope > li[data-field="${name}"]`)
  const order = () => list.locator(':scope > li').evaluateAll((items) => items.map((li) => li.dataset.field))
  const field = (label) => props.getByLabel(label, { exact: true })
  const named = async (name, en, zh) => {
    await field('Name (in the API)').fill(name)
    await field('Label (English)').fill(en)
    await field('Label (中文)').fill(zh)
  }
  const dragTo = async (from, to) => {
    const a = await from.boundingBox()
    const b = await to.boundingBox()
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
    await page.mouse.down()
    await page.mouse.move(a.x + a.width / 2 + 8, a.y + a.height / 2 + 8, { steps: 4 })
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 })
    for (let i = 0; i < 3; i++) {  // where the target is now (the page may have scrolled under the pointer)
      await page.waitForTimeout(120)
      const now = await to.boundingBox()
      await page.mouse.move(now.x + now.width / 2, now.y + now.height / 2, { steps: 3 })
    }
    await page.waitForTimeout(150)
    await page.mouse.up()
  }
  // a field's ⠿ handle dragged until its box's centre is over the target's (dnd-kit's closest centre)
  const sortTo = async (source, target) => {
    await list.evaluate((el) => el.scrollIntoView({ block: 'center' }))
    const from = await source.boundingBox()
    const to = await target.boundingBox()
    const grip = await source.locator('.fd-handle').first().boundingBox()
    const x = grip.x + grip.width / 2
    const y = grip.y + grip.height / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x, y - 8, { steps: 4 })
    await page.mouse.move(x, y + (to.y + to.height / 2) - (from.y + from.height / 2), { steps: 15 })
    await page.waitForTimeout(200)
    await page.mouse.up()
  }
  const options = async (values) => {
    for (const [i, [value, en, zh]] of values.entries()) {
      if (i > 0) await props.getByRole('button', { name: 'Add an option' }).click()
      await props.getByLabel(`Value of option ${i + 1}`).fill(value)
      await props.getByLabel(`English label of ${value}`).fill(en)
      await props.getByLabel(`Chinese label of ${value}`).fill(zh)
    }
  }

  // the form itself
  await props.getByLabel('Form name (in the API)').fill('equipment_check')
  await props.getByLabel('Title (English)').fill('Equipment check')
  await props.getByLabel('Title (中文)').fill('设备检查')

  // a text field, added by click
  await page.getByRole('button', { name: 'Add Text', exact: true }).click()
  await named('serial', 'Serial number', '序列号')
  // a number, dragged from the palette onto the field list
  await dragTo(page.getByRole('button', { name: 'Add Number', exact: true }), page.locator('.fd-canvas'))
  await item('number_1').waitFor()
  await props.getByRole('heading', { name: 'Properties of number_1' }).waitFor()
  await page.waitForTimeout(400)  // the drop's end: dnd-kit gives the focus back to the palette item
  await named('pressure', 'Pressure', '压力')
  await field('Minimum').fill('0')
  await field('Maximum').fill('10')
  // a select with three options in both languages: placed as a required text first, its type changed after
  await page.getByRole('button', { name: 'Add Text', exact: true }).click()
  await named('condition', 'Condition', '状况')
  await props.getByLabel('Required', { exact: true }).check()
  await field('Maximum length').fill('20')
  await props.getByLabel('Field type', { exact: true }).selectOption('select')
  const typeNote = props.locator('[id$="-type-note"]')
  await typeNote.waitFor()
  summary.type_change = (await typeNote.innerText()).trim()
  if (!/Changed from Text to Single select/.test(summary.type_change) || !summary.type_change.includes('max_length')) fail(`the type change's note: ${summary.type_change}`)
  if ((await field('Label (English)').inputValue()) !== 'Condition' || !(await props.getByLabel('Required', { exact: true }).isChecked())) fail('the label or required did not carry over')
  if (await field('Maximum length').count()) fail('a select still offers a maximum length')
  await item('condition').getByText('Single select').waitFor()
  await accessible(page, 'form-designer-type-change-en')
  await options([['good', 'Good', '良好'], ['worn', 'Worn', '磨损'], ['broken', 'Broken', '损坏']])
  // a sub-table: its first column becomes the notes, a pass/fail select is added
  await page.getByRole('button', { name: 'Add Sub-table', exact: true }).click()
  await named('checklist', 'Checklist', '检查项')
  const columns = item('checklist').locator('.fd-columns')
  await columns.locator('li[data-field="text_1"] .fd-pick').click()
  await named('notes', 'Notes', '备注')
  await columns.getByLabel('Column type').selectOption('select')
  await columns.getByRole('button', { name: 'Add a column to Checklist' }).click()
  await named('result', 'Result', '结果')
  await options([['pass', 'Pass', '通过'], ['fail', 'Fail', '不通过']])
  // a photo, shown only for a broken item: typed first with a typo
  await page.getByRole('button', { name: 'Add Image / photo', exact: true }).click()
  await named('photo', 'Photo', '照片')
  const rule = field('Visible when')
  // checked as it is typed by the expression endpoint, against the draft sent along (nothing is published)
  const draftAsked = page.waitForResponse((r) => r.url().includes('/forms/equipment_check/expressions/check') && r.request().postData()?.includes('conditon'))
  await rule.fill("conditon == 'broken'")
  const draftAnswer = await draftAsked
  summary.draft_expression_check = { status: draftAnswer.status(), sent_definition: !!JSON.parse(draftAnswer.request().postData()).definition, answer: await draftAnswer.json() }
  const problem = props.locator('[data-problem-for$="-visible_if"]')
  await problem.waitFor()
  summary.typo = (await problem.innerText()).trim()
  if (!/unknown field 'conditon'/.test(summary.typo) || !summary.typo.includes('^')) fail(`the typo's problem: ${summary.typo}`)
  if ((await rule.getAttribute('aria-invalid')) !== 'true') fail('the expression input is not marked invalid')
  // the whole draft's check marks the field in the list too (it may answer after the expression's own check)
  await item('photo').locator('.fd-problem').waitFor({ timeout: 45_000 }).catch(() => fail('the field list does not mark the field with the problem'))
  await accessible(page, 'form-designer-typo-en')
  // saved as it is, the server refuses: its problem shown at the path (the photo's rule)
  await page.getByRole('button', { name: 'Save as new version' }).click()
  const refusal = page.locator('.fd-refusal')
  await refusal.waitFor()
  summary.refused = (await refusal.innerText()).trim()
  if (!/photo · visible_if/.test(summary.refused)) fail(`the refusal: ${summary.refused}`)
  await rule.fill("condition == 'broken'")
  await problem.waitFor({ state: 'detached' })
  await page.locator('.fd-status', { hasText: 'no problems' }).waitFor()

  // reorder: photo dragged onto pressure, then serial moved one down by keyboard
  summary.before = await order()
  await sortTo(item('photo'), item('pressure'))
  await page.waitForFunction(() => document.querySelector('.fd-list > li:nth-child(2)')?.dataset.field === 'photo')
  const handle = item('serial').getByRole('button', { name: 'Move Serial number', exact: true })
  await handle.focus()
  await page.keyboard.press('Space')
  await page.waitForTimeout(200)
  await page.keyboard.press('ArrowDown')
  await page.waitForTimeout(300)
  await page.keyboard.press('Space')
  await page.waitForFunction(() => document.querySelector('.fd-list > li:nth-child(2)')?.dataset.field === 'serial')
  summary.order = await order()
  if (summary.order.join() !== 'photo,serial,pressure,condition,checklist') fail(`order after the moves: ${summary.order}`)

  // the preview is the record form of the draft
  const preview = page.locator('.fd-preview')
  await preview.getByLabel(/^Pressure/).waitFor()
  await preview.getByText('Checklist').first().waitFor()
  await accessible(page, 'form-designer-new-en')

  // the form's settings: lists filterable by serial number and by condition (the form's indexes)
  await page.getByRole('button', { name: 'Form settings' }).click()
  const filterable = page.getByLabel('Filter lists by')
  await filterable.selectOption({ label: 'Serial number' })
  await page.getByRole('button', { name: 'Add filterable field' }).click()
  await filterable.selectOption({ label: 'Condition' })
  await page.getByRole('button', { name: 'Add filterable field' }).click()
  summary.filterable = await page.locator('.fd-indexes li').evaluateAll((items) => items.map((li) => li.dataset.index))
  if (summary.filterable.join() !== 'serial,condition') fail(`filterable fields: ${summary.filterable}`)
  await page.locator('.fd-status', { hasText: 'no problems' }).waitFor()
  await accessible(page, 'form-designer-settings-en')

  await page.getByRole('button', { name: 'Save as new version' }).click()
  await page.locator('.fd-status', { hasText: 'Saved as version 1' }).waitFor()
  const changes = page.locator('.fd-changes')
  await changes.getByText('Nothing published yet').waitFor()
  summary.first_changes = await changes.locator('li').count()
  if (summary.first_changes !== 5) fail(`changes of the first version: ${summary.first_changes}`)
  await page.getByRole('button', { name: 'Publish version 1' }).click()
  await page.locator('.fd-status', { hasText: 'Published version 1' }).waitFor()
  await changes.getByText('Version 1 is published').waitFor()
  await accessible(page, 'form-designer-published-en')

  // the shipped work order, in Chinese: one label changed, saved, compared; not published
  await page.getByRole('combobox', { name: /Language|语言/ }).selectOption('zh-CN')
  await page.goto(`${base}/admin/definitions`)
  await page.getByRole('link', { name: '设计 work_order', exact: true }).click()
  await page.getByRole('heading', { name: /表单设计器/ }).waitFor()
  await item('priority').locator('.fd-pick').click()
  // a published form's expression is checked as it is typed by the expression endpoint: the typo at the field
  const asked = page.waitForResponse((r) => r.url().includes('/forms/work_order/expressions/check') && r.request().postData()?.includes('priorty'))
  const when = props.getByLabel('何时显示', { exact: true })
  await when.fill("priorty == 'high'")
  summary.expression_check = await (await asked).json()
  const whenProblem = props.locator('[data-problem-for$="-visible_if"]')
  await whenProblem.getByText("did you mean 'priority'").waitFor()
  await when.fill('')
  await whenProblem.waitFor({ state: 'detached' })
  const zhLabel = props.getByLabel('标签（中文）', { exact: true })
  summary.old_label = await zhLabel.inputValue()
  await zhLabel.fill('紧急程度')
  await page.locator('.fd-status', { hasText: '有未保存的修改' }).waitFor()
  await page.locator('.fd-preview').getByLabel(/^紧急程度/).waitFor()
  await accessible(page, 'form-designer-work-order-zh')
  await page.getByRole('button', { name: '保存为新版本' }).click()
  await page.locator('.fd-status', { hasText: '已保存为版本 2' }).waitFor()
  const diff = page.locator('.fd-changes .fd-diff li')
  await diff.first().waitFor()
  summary.work_order_diff = await diff.evaluateAll((items) => items.map((li) => ({ op: li.dataset.op, path: li.dataset.path, text: li.innerText })))
  if (summary.work_order_diff.length !== 1 || !summary.work_order_diff[0].text.includes('紧急程度')) fail(`the work order's changes: ${JSON.stringify(summary.work_order_diff)}`)
  if (!(await page.getByRole('button', { name: '发布版本 2', exact: true }).isEnabled())) fail('publishing version 2 is not offered')
  // the change impact on the live orders before publishing: a dry run, nothing written
  await page.getByRole('button', { name: '查看影响（试运行）' }).click()
  await page.getByRole('status').filter({ hasText: '试运行完成：未写入任何数据。' }).waitFor()
  summary.form_impact = {
    moved: Number(await page.getByTestId('form-impact-moved').innerText()),
    needs_values: Number(await page.getByTestId('form-impact-needs-values').innerText()),
    reports: await page.locator('.fd-impact').getByText('没有报表的数字会变化').count(),
  }
  if (!(await page.getByRole('button', { name: '发布版本 2 并迁移记录' }).isEnabled())) fail('publish and move is not offered')
  await accessible(page, 'form-designer-diff-zh')
  await shot(page, 'form-designer-diff-zh')
  summary.seconds = Math.round((Date.now() - started) / 1000)
  if (errors.length) fail(`page errors: ${errors.join(' | ')}`)
})
